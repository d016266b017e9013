"""Case use cases on the real SQLite store: Art. 32 sweep, concurrency, history and outbox."""

from __future__ import annotations

import asyncio

import pytest

from app.domain.actors import Actor, Role
from app.domain.cases import MaterialRef
from app.domain.errors import StaleVersion
from app.services.calendar import CalendarService
from app.services.cases import CaseService
from app.services.catalog import list_matters
from app.settings import Settings
from app.wiring.demo import load_demo_data
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock

CITIZEN = Actor("demo-citizen", Role.APPLICANT)


@pytest.fixture
async def service(store: SqliteDocumentStore, settings: Settings, clock: Clock) -> CaseService:
    await load_demo_data(store, settings, clock())
    # Weekdays only: the test's arithmetic should not depend on this year's holidays.
    calendars = CalendarService(store, statutory=lambda d: d.weekday() < 5)
    return CaseService(store, calendars, clock=clock)


async def submitted_case(service: CaseService, store: SqliteDocumentStore) -> str:
    matter = next(m for m in await list_matters(store) if "citizen" in m.targets)
    case = await service.open(CITIZEN, matter.code)
    for slot in case.missing_materials():
        ref = MaterialRef(f"cases/{case.number}/{slot.id}.jpg", "image/jpeg", 3, "0" * 64)
        case = await service.attach(CITIZEN, case.number, slot.id, ref, version=None)
    case = await service.submit(CITIZEN, case.number, version=case.version)
    return case.number


async def test_the_sweep_deems_a_case_accepted_after_five_working_days_art_32(
    service: CaseService, store: SqliteDocumentStore, clock: Clock
) -> None:
    number = await submitted_case(service, store)  # Monday 2 Nov 2026
    clock.advance(days=7)  # Monday 9 Nov: the fifth working day, window still open
    assert await service.deem_overdue_accepted() == []
    clock.advance(days=1)  # Tuesday 10 Nov
    assert await service.deem_overdue_accepted() == [number]
    case = await service.get(CITIZEN, number)
    assert case.state.value == "deemed_accepted"
    history = await service.history(CITIZEN, number)
    assert history[-1].reason == "art32"
    assert await service.deem_overdue_accepted() == []  # running again changes nothing


async def test_two_reviewers_acting_at_once_one_wins_and_nothing_is_overwritten(
    service: CaseService, store: SqliteDocumentStore
) -> None:
    number = await submitted_case(service, store)
    case = await service.get(CITIZEN, number)
    reviewer = Actor("r1", Role.REVIEWER, department=case.terms.department)
    results = await asyncio.gather(
        service.approve(reviewer, number, version=case.version),
        service.reject(reviewer, number, "不符合条件", "条例第二十六条", version=case.version),
        return_exceptions=True,
    )
    assert sum(isinstance(r, StaleVersion) for r in results) == 1
    final = await service.get(CITIZEN, number)
    winner = next(r for r in results if not isinstance(r, BaseException))
    assert final.state == winner.state
    # Only the winner's decision is in the history.
    decisions = [e.action for e in await service.history(CITIZEN, number)]
    assert decisions.count("approve") + decisions.count("reject") == 1


async def test_each_state_change_writes_history_and_an_outbox_notice_atomically(
    service: CaseService, store: SqliteDocumentStore
) -> None:
    number = await submitted_case(service, store)
    queued = await store.find("outbox", {"payload.case": number}, sort=[("created_at", 1)])
    notices = [n for n in queued if n["topic"] == "notify.applicant"]
    states = [n["payload"]["state"] for n in notices]
    assert states == ["submitted"]  # a new draft is not pushed: the applicant just made it
    case = await service.get(CITIZEN, number)
    jobs = [n["payload"] for n in queued if n["topic"] == "ocr.precheck"]
    # Every attached photo is queued for its pre-check with the change that attached it.
    assert sorted(j["slot"] for j in jobs) == sorted(case.materials)
    assert all(j["object_key"] == case.materials[j["slot"]].object_key for j in jobs)
    assert all(n["_id"].startswith(f"notify:{number}:") for n in notices)
    assert all("1101" not in n["payload"]["text"] for n in notices)


async def test_the_reviewer_queue_keeps_every_case_that_awaits_the_department(
    service: CaseService, store: SqliteDocumentStore, clock: Clock
) -> None:
    number = await submitted_case(service, store)
    clock.advance(days=8)
    assert await service.deem_overdue_accepted() == [number]  # now accepted by law, Art. 32
    case = await service.get(CITIZEN, number)
    reviewer = Actor("r1", Role.REVIEWER, department=case.terms.department)
    queue = await service.list_for(reviewer)
    assert number in [c.number for c in queue.items]  # still the department's to decide
    await service.reject(reviewer, number, "不符合条件", "条例第二十六条", version=None)
    assert number not in [c.number for c in (await service.list_for(reviewer)).items]


async def test_a_case_received_on_28_december_2026_waits_past_new_years_day_art_32(
    store: SqliteDocumentStore, settings: Settings, clock: Clock
) -> None:
    """On the shipped calendar: 2026 from the State Council's notice, 2027 provisional, with
    1 January off by 《全国年节及纪念日放假办法》."""
    clock.now = clock.now.replace(year=2026, month=12, day=28)  # a Monday, 09:00 in Beijing
    await load_demo_data(store, settings, clock())
    service = CaseService(store, CalendarService(store), clock=clock)
    number = await submitted_case(service, store)
    doc = await store.get("cases", number)
    assert doc is not None and doc["accept_by"] == "2027-01-05"  # 29, 30, 31 Dec, 4, 5 Jan
    clock.advance(days=8)  # Tuesday 5 January 2027: the last day of the window
    assert await service.deem_overdue_accepted() == []
    clock.advance(days=1)
    assert await service.deem_overdue_accepted() == [number]
    case = await service.get(CITIZEN, number)
    assert case.accepted_on is not None and case.accepted_on.isoformat() == "2026-12-28"
