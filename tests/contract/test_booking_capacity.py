"""Hall capacity holds on every document-store adapter when many take the last places at once."""

from __future__ import annotations

import asyncio
from datetime import date, time

from app.domain.actors import Actor, Role
from app.main import load_demo_data
from app.services.appointment_records import BOOKINGS, LEDGERS
from app.services.appointments import HALL_RULES, AppointmentService, SlotFull
from app.services.calendar import CalendarService
from app.services.cases import CaseService
from app.settings import Settings
from storage.documents import DocumentStore
from tests.conftest import Clock


async def test_sixty_at_once_for_five_places_make_five_bookings(
    document_store: DocumentStore, settings: Settings, clock: Clock
) -> None:
    await load_demo_data(document_store, settings, clock())
    async with document_store.transaction() as tx:
        await tx.insert(HALL_RULES, {"_id": "mz", "capacity": 5})
    calendars = CalendarService(document_store, statutory=lambda d: d.weekday() < 5)
    hall = AppointmentService(
        document_store, calendars, CaseService(document_store, calendars, clock=clock),
        secret="c" * 32, clock=clock,
    )  # fmt: skip
    [matter] = await document_store.find("matters", {"department": "mz"})
    people = [Actor(f"wx-{n}", Role.APPLICANT) for n in range(60)]
    results = await asyncio.gather(
        *(hall.book(p, matter["_id"], date(2026, 11, 3), time(9)) for p in people),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 5
    assert sum(isinstance(r, SlotFull) for r in results) == 55
    assert await document_store.count(BOOKINGS) == 5
    [ledger] = await document_store.find(LEDGERS)
    assert ledger["taken"] == 5
