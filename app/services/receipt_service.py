"""The receipt QR code's public view of a case, on the service's clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.domain.cases import china_date
from app.services.calendar import CalendarService
from app.services.receipts import PublicStatus, public_status
from storage.documents import DocumentStore


@dataclass(frozen=True)
class ReceiptService:
    store: DocumentStore
    calendars: CalendarService
    clock: Callable[[], datetime]

    async def status(self, number: str) -> PublicStatus | None:
        """The case's public progress today, or None when there is no such case."""
        return await public_status(self.store, self.calendars, number, china_date(self.clock()))
