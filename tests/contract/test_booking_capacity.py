"""Hall capacity holds on every document-store adapter when many race for the last places."""

from __future__ import annotations

import asyncio
from datetime import date, time

from app.domain.actors import Actor, Role
from app.services.appointment_records import BOOKINGS, LEDGERS
from app.services.appointments import AppointmentService, SlotFull
from app.services.calendar import CalendarService
from app.services.cases import CaseService
from app.services.hall_admin import HALL_RULES
from app.settings import Settings
from app.wiring.demo import load_demo_data
from storage.documents import DocumentStore
from tests.conftest import Clock


def instances(store: DocumentStore, clock: Clock, count: int) -> list[AppointmentService]:
    """``count`` app instances over one store: each takes turns among its own racers for a
    slot, so only the ledger's compare-and-set keeps the instances from overbooking."""
    calendars = CalendarService(store, statutory=lambda d: d.weekday() < 5)
    cases = CaseService(store, calendars, clock=clock)
    return [
        AppointmentService(store, calendars, cases, secret="c" * 32, clock=clock)
        for _ in range(count)
    ]


async def test_two_hundred_at_once_for_the_last_ten_places_make_ten_bookings(
    document_store: DocumentStore, settings: Settings, clock: Clock
) -> None:
    await load_demo_data(document_store, settings, clock())
    async with document_store.transaction() as tx:
        await tx.insert(HALL_RULES, {"_id": "mz", "capacity": 12})
    halls = instances(document_store, clock, 4)
    [matter] = await document_store.find("matters", {"department": "mz"})
    day, nine = date(2026, 11, 3), time(9)
    for early in ("wx-early-1", "wx-early-2"):  # two places already gone: ten remain
        await halls[0].book(Actor(early, Role.APPLICANT), matter["_id"], day, nine)
    people = [Actor(f"wx-{n}", Role.APPLICANT) for n in range(200)]
    results = await asyncio.gather(
        *(halls[n % 4].book(p, matter["_id"], day, nine) for n, p in enumerate(people)),
        return_exceptions=True,
    )
    refusals = [r for r in results if isinstance(r, SlotFull)]
    assert sum(not isinstance(r, BaseException) for r in results) == 10
    assert len(refusals) == 190  # and nothing else: no error, no double booking
    assert all(r.next_free == (day, time(9, 30)) for r in refusals)
    assert await document_store.count(BOOKINGS) == 12
    [ledger] = await document_store.find(LEDGERS)
    assert ledger["taken"] == 12


async def test_moves_racing_into_the_last_places_never_pass_capacity(
    document_store: DocumentStore, settings: Settings, clock: Clock
) -> None:
    await load_demo_data(document_store, settings, clock())
    async with document_store.transaction() as tx:
        await tx.insert(HALL_RULES, {"_id": "mz", "capacity": 30})
    [hall] = instances(document_store, clock, 1)
    [matter] = await document_store.find("matters", {"department": "mz"})
    day = date(2026, 11, 3)
    for n in range(25):  # 10:00 has five places left
        await hall.book(Actor(f"wx-other-{n}", Role.APPLICANT), matter["_id"], day, time(10))
    people = [Actor(f"wx-{n}", Role.APPLICANT) for n in range(30)]
    booked = [await hall.book(p, matter["_id"], day, time(9)) for p in people]
    results = await asyncio.gather(
        *(hall.reschedule(p, b.id, day, time(10)) for p, b in zip(people, booked, strict=True)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 5
    assert sum(isinstance(r, SlotFull) for r in results) == 25
    taken = {d["_id"][-5:]: d["taken"] for d in await document_store.find(LEDGERS)}
    assert taken == {"09:00": 25, "10:00": 30}
    assert await document_store.count(BOOKINGS, {"state": "booked"}) == 55
