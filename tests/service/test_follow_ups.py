"""Bad ratings open follow-ups with the rating, in one transaction; supervisors close them."""

from __future__ import annotations

import asyncio

import pytest

from app.domain.actors import Actor, Role
from app.domain.case_states import Action
from app.domain.cases import MaterialRef
from app.domain.errors import InvalidTransition, NotFoundError, NotPermitted, StaleVersion
from app.services.audit import audit_trail
from app.services.calendar import CalendarService
from app.services.cases import CaseService
from app.services.catalog import list_matters
from app.services.follow_ups import FOLLOW_UPS, close_follow_up, open_follow_ups
from app.settings import Settings
from app.wiring.demo import load_demo_data
from storage.documents import DuplicateKey
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock

CITIZEN = Actor("demo-citizen", Role.APPLICANT)
SUPERVISOR = Actor("sup-1", Role.SUPERVISOR)


@pytest.fixture
async def service(store: SqliteDocumentStore, settings: Settings, clock: Clock) -> CaseService:
    await load_demo_data(store, settings, clock())
    calendars = CalendarService(store, statutory=lambda d: d.weekday() < 5)
    return CaseService(store, calendars, clock=clock)


async def issued_case(service: CaseService, store: SqliteDocumentStore) -> str:
    """A free citizen matter without originals, approved and its certificate issued."""
    matters = [m for m in await list_matters(store) if "citizen" in m.targets]
    matter = next(m for m in matters if not m.total_fee_fen and not m.originals_required)
    case = await service.open(CITIZEN, matter.code)
    for slot in case.missing_materials():
        ref = MaterialRef(f"cases/{case.number}/{slot.id}.jpg", "image/jpeg", 3, "0" * 64)
        await service.attach(CITIZEN, case.number, slot.id, ref, version=None)
    await service.submit(CITIZEN, case.number, version=None)
    reviewer = Actor("r", Role.REVIEWER, department=case.terms.department)
    await service.approve(reviewer, case.number, version=None)
    await service.act(reviewer, case.number, Action.ISSUE_CERTIFICATE, version=None, reason=None)
    return case.number


async def test_a_bad_rating_opens_one_follow_up_in_the_agreed_shape(
    service: CaseService, store: SqliteDocumentStore
) -> None:
    number = await issued_case(service, store)
    case = await service.rate(CITIZEN, number, "不满意", "  窗口态度差 ", version=None)
    doc = await store.get(FOLLOW_UPS, number)
    assert doc is not None
    doc.pop("_version")
    assert doc == {
        "_id": number,
        "case": number,
        "department": case.terms.department,
        "matter_code": case.terms.code,
        "matter_name": case.terms.name,
        "level": "不满意",
        "comment": "窗口态度差",
        "opened_at": "2026-11-02T01:00:00+00:00",  # the test clock: Monday 09:00 in Beijing
        "due_on": "2026-11-23",  # 15 weekdays after Monday 2 Nov
        "closed_at": None,
        "closed_by": None,
        "resolution": None,
        "rater": "demo-citizen",  # the one told the result (回访) and asked if it helped
        "answer": None,
        "rounds": 1,
        "earlier": [],
    }
    assert [d["_id"] for d in await open_follow_ups(store)] == [number]


async def test_a_good_rating_opens_nothing(
    service: CaseService, store: SqliteDocumentStore
) -> None:
    number = await issued_case(service, store)
    await service.rate(CITIZEN, number, "基本满意", version=None)
    assert await store.count(FOLLOW_UPS) == 0


async def test_the_rating_and_its_follow_up_are_saved_together_or_not_at_all(
    service: CaseService, store: SqliteDocumentStore
) -> None:
    number = await issued_case(service, store)
    async with store.transaction() as tx:  # a follow-up in the way makes its insert fail
        await tx.insert(FOLLOW_UPS, {"_id": number, "case": "squatter"})
    with pytest.raises(DuplicateKey):
        await service.rate(CITIZEN, number, "非常不满意", version=None)
    case = await service.get(CITIZEN, number)
    assert case.rating is None  # the rating did not stay without its follow-up
    assert [e.action for e in await service.history(CITIZEN, number)][-1] == "issue_certificate"


async def test_open_follow_ups_come_nearest_due_first_and_closed_ones_drop_out(
    service: CaseService, store: SqliteDocumentStore, clock: Clock
) -> None:
    first = await issued_case(service, store)
    second = await issued_case(service, store)
    third = await issued_case(service, store)
    await service.rate(CITIZEN, second, "非常不满意", version=None)
    clock.advance(days=1)
    await service.rate(CITIZEN, third, "不满意", version=None)
    clock.advance(days=1)
    await service.rate(CITIZEN, first, "不满意", version=None)
    listed = await open_follow_ups(store)
    assert [(d["_id"], d["due_on"]) for d in listed] == [
        (second, "2026-11-23"),
        (third, "2026-11-24"),
        (first, "2026-11-25"),
    ]
    await close_follow_up(store, SUPERVISOR, third, "已回访", clock())
    assert [d["_id"] for d in await open_follow_ups(store)] == [second, first]


async def test_a_supervisor_closes_a_follow_up_once_with_an_audit_record(
    service: CaseService, store: SqliteDocumentStore, clock: Clock
) -> None:
    number = await issued_case(service, store)
    await service.rate(CITIZEN, number, "非常不满意", "<script>alert(1)</script>", version=None)
    reviewer = Actor("r", Role.REVIEWER, department="mz")
    with pytest.raises(NotPermitted):
        await close_follow_up(store, reviewer, number, "已整改", clock())
    with pytest.raises(NotFoundError):
        await close_follow_up(store, SUPERVISOR, "BC20261102000000", "已整改", clock())
    clock.advance(hours=3)
    closed = await close_follow_up(store, SUPERVISOR, number, " 已电话回访并致歉 ", clock())
    assert closed["closed_at"] == "2026-11-02T04:00:00+00:00"
    assert (closed["closed_by"], closed["resolution"]) == ("sup-1", "已电话回访并致歉")
    assert closed["comment"] == "<script>alert(1)</script>"  # stored as written, escaped on pages
    with pytest.raises(InvalidTransition):
        await close_follow_up(store, SUPERVISOR, number, "再次处理", clock())
    [record] = await audit_trail(store, f"follow_up:{number}")
    assert (record["action"], record["actor"]) == ("follow_up.close", "sup-1")
    assert record["detail"]["resolution"] == "已电话回访并致歉"


async def test_two_supervisors_closing_at_once_one_wins_and_nothing_is_overwritten(
    service: CaseService, store: SqliteDocumentStore, clock: Clock
) -> None:
    number = await issued_case(service, store)
    await service.rate(CITIZEN, number, "不满意", version=None)
    other = Actor("sup-2", Role.SUPERVISOR)
    results = await asyncio.gather(
        close_follow_up(store, SUPERVISOR, number, "甲的处理", clock()),
        close_follow_up(store, other, number, "乙的处理", clock()),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if isinstance(r, StaleVersion | InvalidTransition)]
    assert len(won) == 1 and len(lost) == 1
    stored = await store.get(FOLLOW_UPS, number)
    assert stored is not None and stored["resolution"] == won[0]["resolution"]
    assert len(await audit_trail(store, f"follow_up:{number}")) == 1
