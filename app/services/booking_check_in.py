"""Checking in at the hall: the code a booking shows, and the queue number it gets, once.

The QR code signs the booking id, the person and the day, so a rescheduled booking's old code
names a booking that can no longer check in; the typed short form is found by its unique index.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime

from app.domain.actors import Actor, Role
from app.domain.appointments import Booking
from app.domain.cases import china_date
from app.domain.errors import NotFoundError, NotPermitted, ValidationFailed
from app.domain.short_codes import as_short_code
from app.services.appointment_records import BOOKINGS, COUNTERS, booking_from_doc, booking_to_doc
from app.services.booking_reads import NOT_FOUND
from app.services.catalog import get_matter
from app.services.notify import NOTIFY_TOPIC
from storage.documents import Document, DocumentStore, DuplicateKey, Transaction, VersionConflict
from storage.outbox import enqueue

MAX_ATTEMPTS = 80  # check-ins at one hall on one day race for the next queue number


class CheckIn:
    def __init__(
        self, store: DocumentStore, *, secret: bytes, clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._secret = secret
        self._clock = clock

    def code(self, booking: Booking) -> str:
        """What the QR code carries: the booking and a signature over it and its day."""
        return f"{booking.id}.{self._sign(booking)}"

    async def check_in(self, code: str, clerk: Actor | None = None) -> Booking:
        """The kiosk or a clerk scanned a code: checked in, with a queue number; once only.

        A clerk (a department's window staff) checks in only their own department's visitors;
        the kiosk (``None``) any. Nobody else checks anyone in: not a courier, a supervisor or an
        administrator.
        """
        doc = await self._by_code(code)
        if doc is None:
            raise NotFoundError("二维码无效，请出示公众号中的预约二维码")
        booking_id = doc["_id"]
        booking = booking_from_doc(doc)
        if clerk is not None and clerk.role is not Role.REVIEWER:
            raise NotPermitted("签到仅供部门窗口工作人员和大厅自助机使用")
        if clerk is not None and clerk.department != booking.department:
            raise NotPermitted("该预约不是本部门窗口的，请引导申请人到对应窗口签到")
        matter = await get_matter(self._store, booking.matter_code)  # its window, for the chat
        now = self._clock()
        counter_key = f"{booking.department}:{booking.day.isoformat()}"
        for _ in range(MAX_ATTEMPTS):
            counter = await self._store.get(COUNTERS, counter_key)
            number = (counter["next"] if counter else 0) + 1
            booking.check_in(china_date(now), number, now)  # refuses a used or wrong-day code
            try:
                async with self._store.transaction() as tx:
                    await tx.replace(
                        BOOKINGS, booking_to_doc(booking), expected_version=doc["_version"]
                    )
                    counted = {"_id": counter_key, "next": number}
                    if counter is None:
                        await tx.insert(COUNTERS, counted)
                    else:
                        await tx.replace(COUNTERS, counted, expected_version=counter["_version"])
                    await _tell_checked_in(tx, booking, matter.department_name, now)
            except (VersionConflict, DuplicateKey):
                doc = await self._store.get(BOOKINGS, booking_id)
                if doc is None:
                    raise NotFoundError(NOT_FOUND) from None
                booking = booking_from_doc(doc)
                continue
            return booking
        raise ValidationFailed("签到人数较多，请稍后再扫一次")

    async def _by_code(self, code: str) -> Document | None:
        """The booking a scanned QR code (id and signature) or its typed short form names."""
        if short := as_short_code(code):
            found = await self._store.find(BOOKINGS, {"short": short}, limit=1)
            return found[0] if found else None
        booking_id, _, sig = code.strip().partition(".")
        doc = await self._store.get(BOOKINGS, booking_id) if booking_id.isalnum() else None
        if doc is None or not hmac.compare_digest(sig, self._sign(booking_from_doc(doc))):
            return None
        return doc

    def _sign(self, booking: Booking) -> str:
        message = f"checkin:{booking.id}:{booking.person}:{booking.day.isoformat()}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:24]


async def _tell_checked_in(tx: Transaction, booking: Booking, window: str, now: datetime) -> None:
    text = (
        f"【签到成功】您的排队号是 {booking.queue_number}，"
        f"请到{window}窗口附近等候叫号，叫到时会再通知您。"
    )
    payload = {"case": booking.case_number or "", "applicant_id": booking.person,
               "state": "", "text": text}  # fmt: skip
    key = f"checked-in:{booking.id}"
    await enqueue(tx, topic=NOTIFY_TOPIC, key=key, payload=payload, now=now)
