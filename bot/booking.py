"""我要预约 in the chat: pick a matter, pick one of the next free half-hours, get the QR code."""

from __future__ import annotations

from datetime import date, time

from app.domain.actors import Actor, Role
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
        target = "enterprise" if actor.role is Role.AGENT else "citizen"
        matters = await self._catalog.matters(target=target)
        conv.step, conv.data = "booking_matter", {"choices": [m.code for m in matters]}
        items = "\n".join(f"{n}. {m.name}" for n, m in enumerate(matters, start=1))
        return texts.BOOK_PICK_MATTER.format(items=items)

    async def step(self, conv: Conversation, actor: Actor, text: str) -> str:
        choices: list[str | list[str]] = conv.data.get("choices", [])
        if not text.isdigit() or not 1 <= int(text) <= len(choices):
            return texts.BAD_PICK.format(n=len(choices))
        picked = choices[int(text) - 1]
        if conv.step == "booking_matter":
            return await self._offer(conv, str(picked))
        day, start = date.fromisoformat(picked[0]), time.fromisoformat(picked[1])
        conv.effect = True
        try:
            booking = await self._appointments.book(actor, conv.data["matter"], day, start)
        except SlotFull as exc:
            return exc.message + "\n" + await self._offer(conv, conv.data["matter"])
        conv.step, conv.data = "idle", {}
        return texts.BOOKED.format(when=_when(booking.day, booking.slot))

    async def _offer(self, conv: Conversation, matter_code: str) -> str:
        slots = await self._appointments.offer(matter_code)
        if not slots:
            conv.step, conv.data = "idle", {}
            return texts.BOOK_NONE_FREE
        conv.step = "booking_slot"
        conv.data = {
            "matter": matter_code,
            "choices": [[d.isoformat(), f"{s:%H:%M}"] for d, s, _ in slots],
        }
        items = "\n".join(
            f"{n}. {_when(d, s)}（余 {free} 个）" for n, (d, s, free) in enumerate(slots, start=1)
        )
        return texts.BOOK_PICK_SLOT.format(items=items)
