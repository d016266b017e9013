"""The window clerk's queue for today: call the next number (叫号), finish (办结).

A call is recorded on the booking (it is what the average wait is measured to) and tells the
applicant in the chat, both in one transaction. Two clerks tapping 叫下一位 at once call two
different numbers: the booking's compare-and-set lets one win each number.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from app.domain.actors import Actor
from app.domain.appointments import CALLED, CHECKED_IN, SERVED, Booking
from app.domain.cases import china_date
from app.domain.errors import InvalidTransition, NotFoundError, NotPermitted, ValidationFailed
from app.services.appointment_records import BOOKINGS, booking_from_doc, booking_to_doc
from app.services.catalog import get_matter
from app.services.notify import NOTIFY_TOPIC
from storage.documents import DocumentStore, VersionConflict
from storage.outbox import enqueue

MAX_ATTEMPTS = 20
NOT_IN_QUEUE = "今天本部门的排队中没有这个号"
BUSY = "该号刚被其他窗口处理过，请刷新后再试"


class HallWindow:
    def __init__(
        self,
        store: DocumentStore,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._clock = clock

    async def queue(self, clerk: Actor) -> list[Booking]:
        """Today's visitors checked in at the clerk's department, in queue-number order."""
        where = {
            "department": _department(clerk),
            "day": china_date(self._clock()).isoformat(),
            "state": {"$in": [CHECKED_IN, CALLED, SERVED]},
        }
        docs = await self._store.find(BOOKINGS, where)
        return sorted(map(booking_from_doc, docs), key=lambda b: b.queue_number or 0)

    async def call_next(self, clerk: Actor) -> Booking | None:
        """Call the lowest number still waiting; None when nobody is waiting."""
        for _ in range(MAX_ATTEMPTS):
            waiting = [b for b in await self.queue(clerk) if b.state == CHECKED_IN]
            if not waiting:
                return None
            try:
                return await self.call(clerk, waiting[0].id)
            except InvalidTransition:
                continue  # another window called that number first: take the next
        raise ValidationFailed("叫号的窗口较多，请再点一次")

    async def call(self, clerk: Actor, booking_id: str) -> Booking:
        """Call one number to the window; the applicant is told in the chat."""
        booking, version = await self._today(clerk, booking_id)
        now = self._clock()
        booking.call(now)
        matter = await get_matter(self._store, booking.matter_code)
        text = (
            f"【叫号】请 {booking.queue_number} 号到{matter.department_name}窗口办理"
            f"“{matter.name}”。"
        )
        payload = {"case": booking.case_number or "", "applicant_id": booking.person,
                   "state": "", "text": text}  # fmt: skip
        try:
            async with self._store.transaction() as tx:
                await tx.replace(BOOKINGS, booking_to_doc(booking), expected_version=version)
                key = f"called:{booking.id}"
                await enqueue(tx, topic=NOTIFY_TOPIC, key=key, payload=payload, now=now)
        except VersionConflict:
            raise InvalidTransition(BUSY) from None
        return booking

    async def serve(self, clerk: Actor, booking_id: str) -> Booking:
        """The visitor's business at the window is done (办结)."""
        booking, version = await self._today(clerk, booking_id)
        booking.serve(self._clock())
        try:
            async with self._store.transaction() as tx:
                await tx.replace(BOOKINGS, booking_to_doc(booking), expected_version=version)
        except VersionConflict:
            raise InvalidTransition(BUSY) from None
        return booking

    async def _today(self, clerk: Actor, booking_id: str) -> tuple[Booking, int]:
        department = _department(clerk)
        doc = await self._store.get(BOOKINGS, booking_id) if booking_id.isalnum() else None
        today = china_date(self._clock()).isoformat()
        if doc is None or doc["department"] != department or doc["day"] != today:
            raise NotFoundError(NOT_IN_QUEUE)
        return booking_from_doc(doc), int(doc["_version"])


def _department(clerk: Actor) -> str:
    if clerk.department is None:
        raise NotPermitted("叫号仅供部门窗口工作人员使用")
    return clerk.department
