"""我要预约, 改约 and 取消预约 in the chat: a matter, a day, a half-hour, each by number; the
QR code, the hall's address and what to bring follow by message."""

from __future__ import annotations

from datetime import date, time

from app.domain.actors import Actor
from app.domain.appointments import Booking, Hall, day_zh, span_zh
from app.domain.errors import DomainError
from app.services.appointments import AppointmentService, SlotFull
from app.services.catalog import CatalogCache
from bot import texts
from bot.conversations import Conversation
from bot.links import link

BACK = "0"  # from a day's half-hours back to the days


def _when(day: date, start: time) -> str:
    return f"{day_zh(day)}{start:%H:%M}"


def hall_lines(hall: Hall) -> str:
    """Where the hall is (with a map link) and when it opens, for the chat."""
    map_link = f" {link(hall.map_url, '地图')}" if hall.map_url else ""
    return f"地点：{hall.place}{map_link}\n开放时间：{hall.hours}"


class BookingDialogue:
    def __init__(self, appointments: AppointmentService, catalog: CatalogCache) -> None:
        self._appointments = appointments
        self._catalog = catalog

    async def start(self, conv: Conversation, actor: Actor) -> str:
        matters = await self._catalog.matters_for(actor)
        conv.step, conv.data = "booking_matter", {"choices": [m.code for m in matters]}
        items = "\n".join(f"{n}. {m.name}" for n, m in enumerate(matters, start=1))
        return texts.BOOK_PICK_MATTER.format(items=items)

    async def start_move(self, conv: Conversation, actor: Actor) -> str:
        """改约: the booking to move (asked only when there are several), its new day and slot."""
        mine = await self._appointments.bookings_of(actor)
        if len(mine) == 1:
            return await self._offer_move_days(conv, actor, mine[0].id)
        return await self._pick_booking(conv, mine, "booking_move_pick", texts.MOVE_PICK)

    async def start_cancel(self, conv: Conversation, actor: Actor) -> str:
        mine = await self._appointments.bookings_of(actor)
        return await self._pick_booking(conv, mine, "booking_cancel_pick", texts.CANCEL_PICK)

    async def step(self, conv: Conversation, actor: Actor, text: str) -> str:
        if text == BACK and conv.step == "booking_slot":
            return await self._offer_days(conv, conv.data["matter"])
        if text == BACK and conv.step == "booking_move_slot":
            return await self._offer_move_days(conv, actor, conv.data["booking"])
        choices: list[str | list[str]] = conv.data.get("choices", [])
        if not text.isdigit() or not 1 <= int(text) <= len(choices):
            return texts.BAD_PICK.format(n=len(choices))
        picked = choices[int(text) - 1]
        if conv.step == "booking_matter":
            return await self._offer_days(conv, str(picked))
        if conv.step == "booking_day":
            day = date.fromisoformat(str(picked))
            return await self._offer_slots(conv, conv.data["matter"], day)
        if conv.step == "booking_move_pick":
            return await self._offer_move_days(conv, actor, str(picked))
        if conv.step == "booking_move_day":
            day = date.fromisoformat(str(picked))
            return await self._offer_move_slots(conv, actor, conv.data["booking"], day)
        if conv.step == "booking_cancel_pick":
            return await self._cancel(conv, actor, str(picked))
        day, start = date.fromisoformat(picked[0]), time.fromisoformat(picked[1])
        conv.effect = True
        if conv.step == "booking_move_slot":
            return await self._move(conv, actor, day, start)
        return await self._book(conv, actor, day, start)

    # -- booking -------------------------------------------------------------------------------

    async def _offer_days(self, conv: Conversation, matter_code: str) -> str:
        matter = await self._catalog.get(matter_code)
        days = await self._appointments.days(matter_code)
        if not any(free for _, free in days):
            conv.step, conv.data = "idle", {}
            return texts.BOOK_NONE_FREE
        conv.step = "booking_day"
        conv.data = {"matter": matter_code, "choices": _day_choices(days)}
        return texts.BOOK_PICK_DAY.format(
            matter=matter.name,
            hall=hall_lines(await self._appointments.hall(matter)),
            n=len(days),
            items=_day_items(days),
        )

    async def _offer_slots(self, conv: Conversation, matter_code: str, day: date) -> str:
        slots = await self._appointments.offer(matter_code, None, day=day)
        if not slots:  # taken meanwhile
            full = texts.DAY_FULL.format(day=day_zh(day))
            return full + await self._offer_days(conv, matter_code)
        conv.step = "booking_slot"
        conv.data = {"matter": matter_code, "choices": _slot_choices(slots)}
        return texts.BOOK_PICK_SLOT.format(day=day_zh(day), items=_slot_items(slots))

    async def _book(self, conv: Conversation, actor: Actor, day: date, start: time) -> str:
        matter_code = conv.data["matter"]
        try:
            booking = await self._appointments.book(actor, matter_code, day, start)
        except SlotFull as exc:
            return exc.message + "\n" + await self._offer_slots(conv, matter_code, day)
        conv.step, conv.data = "idle", {}
        matter = await self._catalog.get(matter_code)
        hall = await self._appointments.hall(matter)
        return texts.BOOKED.format(
            when=_when(booking.day, booking.slot),
            window=hall.window,
            cutoff=await self._cutoff(booking),
        )

    # -- moving and cancelling -----------------------------------------------------------------

    async def _pick_booking(
        self, conv: Conversation, mine: list[Booking], step: str, question: str
    ) -> str:
        if not mine:
            conv.step, conv.data = "idle", {}
            return texts.NO_BOOKINGS
        conv.step, conv.data = step, {"choices": [b.id for b in mine]}
        lines = []
        for n, b in enumerate(mine, start=1):
            matter = await self._catalog.get(b.matter_code)
            lines.append(f"{n}. {_when(b.day, b.slot)} {matter.name}")
        return question.format(items="\n".join(lines))

    async def _movable(self, conv: Conversation, actor: Actor, booking_id: str) -> Booking | str:
        """The booking if it may still move, else why not (and the dialogue ends)."""
        try:
            return await self._appointments.movable(actor, booking_id)
        except DomainError as exc:
            conv.step, conv.data = "idle", {}
            return exc.message

    async def _offer_move_days(self, conv: Conversation, actor: Actor, booking_id: str) -> str:
        booking = await self._movable(conv, actor, booking_id)
        if isinstance(booking, str):
            return booking
        days = await self._appointments.days(booking.matter_code)
        if not any(free for _, free in days):
            conv.step, conv.data = "idle", {}
            return texts.MOVE_NONE_FREE
        conv.step = "booking_move_day"
        conv.data = {"booking": booking.id, "choices": _day_choices(days)}
        return texts.MOVE_PICK_DAY.format(
            was=_when(booking.day, booking.slot), items=_day_items(days)
        )

    async def _offer_move_slots(
        self, conv: Conversation, actor: Actor, booking_id: str, day: date
    ) -> str:
        booking = await self._movable(conv, actor, booking_id)
        if isinstance(booking, str):
            return booking
        slots = await self._appointments.offer(
            booking.matter_code, None, skip=(booking.day, booking.slot), day=day
        )
        if not slots:
            full = texts.DAY_FULL.format(day=day_zh(day))
            return full + await self._offer_move_days(conv, actor, booking_id)
        conv.step = "booking_move_slot"
        conv.data = {"booking": booking.id, "choices": _slot_choices(slots)}
        return texts.MOVE_PICK_SLOT.format(day=day_zh(day), items=_slot_items(slots))

    async def _move(self, conv: Conversation, actor: Actor, day: date, start: time) -> str:
        booking_id = conv.data["booking"]
        try:
            moved = await self._appointments.reschedule(actor, booking_id, day, start)
        except SlotFull as exc:
            return exc.message + "\n" + await self._offer_move_slots(conv, actor, booking_id, day)
        except DomainError as exc:
            conv.step, conv.data = "idle", {}
            return exc.message
        conv.step, conv.data = "idle", {}
        return texts.MOVED.format(when=_when(moved.day, moved.slot))

    async def _cancel(self, conv: Conversation, actor: Actor, booking_id: str) -> str:
        conv.step, conv.data = "idle", {}
        conv.effect = True
        cancelled = await self._appointments.cancel(actor, booking_id)
        return texts.BOOKING_CANCELLED.format(when=_when(cancelled.day, cancelled.slot))

    async def _cutoff(self, booking: Booking) -> str:
        return span_zh((await self._appointments.rules(booking.department)).cutoff)


def _day_choices(days: list[tuple[date, int]]) -> list[str]:
    return [d.isoformat() for d, free in days if free]


def _day_items(days: list[tuple[date, int]]) -> str:
    """Days with places by number; a full day is shown, unnumbered, so none seems missing."""
    lines, n = [], 0
    for day, free in days:
        if free:
            n += 1
            lines.append(f"{n}. {day_zh(day)}余 {free} 个")
        else:
            lines.append(f"　 {day_zh(day)}已约满")
    return "\n".join(lines)


def _slot_choices(slots: list[tuple[date, time, int]]) -> list[list[str]]:
    return [[d.isoformat(), f"{s:%H:%M}"] for d, s, _ in slots]


def _slot_items(slots: list[tuple[date, time, int]]) -> str:
    return "\n".join(f"{n}. {s:%H:%M}（余 {free} 个）" for n, (_, s, free) in enumerate(slots, 1))
