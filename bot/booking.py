"""我要预约, 改约 and 取消预约 in the chat: pick by number, get the QR code by message."""

from __future__ import annotations

from datetime import date, time

from app.domain.actors import Actor
from app.domain.appointments import Booking, span_zh
from app.domain.errors import DomainError
from app.services.appointments import AppointmentService, SlotFull
from app.services.catalog import CatalogCache
from bot import texts
from bot.conversations import Conversation

WEEKDAY_ZH = "一二三四五六日"


def _when(day: date, start: time) -> str:
    return f"{day.month}月{day.day}日（周{WEEKDAY_ZH[day.weekday()]}）{start:%H:%M}"


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
        """改约: the booking to move (asked only when there are several), then its new slot."""
        mine = await self._appointments.bookings_of(actor)
        if len(mine) == 1:
            return await self._offer_move(conv, actor, mine[0].id)
        return await self._pick_booking(conv, mine, "booking_move_pick", texts.MOVE_PICK)

    async def start_cancel(self, conv: Conversation, actor: Actor) -> str:
        mine = await self._appointments.bookings_of(actor)
        return await self._pick_booking(conv, mine, "booking_cancel_pick", texts.CANCEL_PICK)

    async def step(self, conv: Conversation, actor: Actor, text: str) -> str:
        choices: list[str | list[str]] = conv.data.get("choices", [])
        if not text.isdigit() or not 1 <= int(text) <= len(choices):
            return texts.BAD_PICK.format(n=len(choices))
        picked = choices[int(text) - 1]
        if conv.step == "booking_matter":
            return await self._offer(conv, str(picked))
        if conv.step == "booking_move_pick":
            return await self._offer_move(conv, actor, str(picked))
        if conv.step == "booking_cancel_pick":
            return await self._cancel(conv, actor, str(picked))
        day, start = date.fromisoformat(picked[0]), time.fromisoformat(picked[1])
        conv.effect = True
        if conv.step == "booking_move_slot":
            return await self._move(conv, actor, day, start)
        try:
            booking = await self._appointments.book(actor, conv.data["matter"], day, start)
        except SlotFull as exc:
            return exc.message + "\n" + await self._offer(conv, conv.data["matter"])
        conv.step, conv.data = "idle", {}
        return texts.BOOKED.format(
            when=_when(booking.day, booking.slot), cutoff=await self._cutoff(booking)
        )

    # -- internals ---------------------------------------------------------------------------

    async def _offer(self, conv: Conversation, matter_code: str) -> str:
        slots = await self._appointments.offer(matter_code)
        if not slots:
            conv.step, conv.data = "idle", {}
            return texts.BOOK_NONE_FREE
        conv.step = "booking_slot"
        conv.data = {"matter": matter_code, "choices": _slot_choices(slots)}
        return texts.BOOK_PICK_SLOT.format(items=_slot_items(slots))

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

    async def _offer_move(self, conv: Conversation, actor: Actor, booking_id: str) -> str:
        try:
            booking = await self._appointments.movable(actor, booking_id)
        except DomainError as exc:
            conv.step, conv.data = "idle", {}
            return exc.message
        slots = await self._appointments.offer(
            booking.matter_code, skip=(booking.day, booking.slot)
        )
        if not slots:
            conv.step, conv.data = "idle", {}
            return texts.MOVE_NONE_FREE
        conv.step = "booking_move_slot"
        conv.data = {"booking": booking.id, "choices": _slot_choices(slots)}
        return texts.MOVE_PICK_SLOT.format(
            was=_when(booking.day, booking.slot), items=_slot_items(slots)
        )

    async def _move(self, conv: Conversation, actor: Actor, day: date, start: time) -> str:
        booking_id = conv.data["booking"]
        try:
            moved = await self._appointments.reschedule(actor, booking_id, day, start)
        except SlotFull as exc:
            return exc.message + "\n" + await self._offer_move(conv, actor, booking_id)
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


def _slot_choices(slots: list[tuple[date, time, int]]) -> list[list[str]]:
    return [[d.isoformat(), f"{s:%H:%M}"] for d, s, _ in slots]


def _slot_items(slots: list[tuple[date, time, int]]) -> str:
    return "\n".join(
        f"{n}. {_when(d, s)}（余 {free} 个）" for n, (d, s, free) in enumerate(slots, start=1)
    )
