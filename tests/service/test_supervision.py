"""Supervision figures on cases driven through CaseService by a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.domain.actors import Actor, Role
from app.domain.case_states import Action
from app.domain.cases import MaterialRef
from app.domain.errors import NotPermitted
from app.domain.notices import Correction
from app.domain.workdays import WarningLevel
from app.services import supervision
from app.services.calendar import CalendarService
from app.services.cases import CaseService
from app.settings import Settings
from app.wiring.demo import load_demo_data
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock

CITIZEN = Actor("demo-citizen", Role.APPLICANT)
GA = Actor("r-ga", Role.REVIEWER, department="ga")
RS = Actor("r-rs", Role.REVIEWER, department="rs")
SUPERVISOR = Actor("demo-supervisor", Role.SUPERVISOR)
RESIDENCE = "11350100MB0315387H-QR-00101"  # 居住证首次申领, ga, 7 working days, no fee
BENEFIT = "11350100MB0319679L-JF-00101"  # 失业保险金申领, rs, 3 working days, no fee
BLURRY = [Correction(None, ("blurry",), "请重新拍摄")]


def on(day: int) -> datetime:
    """9:00 Beijing time on ``day`` November 2026 (the 2nd is a Monday)."""
    return datetime(2026, 11, day, 1, 0, tzinfo=UTC)


@pytest.fixture
async def calendars(
    store: SqliteDocumentStore, settings: Settings, clock: Clock
) -> CalendarService:
    await load_demo_data(store, settings, clock())
    # Weekdays only: the figures below should not depend on this year's holidays.
    return CalendarService(store, statutory=lambda d: d.weekday() < 5)


@pytest.fixture
def service(store: SqliteDocumentStore, calendars: CalendarService, clock: Clock) -> CaseService:
    return CaseService(store, calendars, clock=clock)


async def submit(service: CaseService, code: str) -> str:
    case = await service.open(CITIZEN, code)
    for slot in case.missing_materials():
        ref = MaterialRef(f"cases/{case.number}/{slot.id}.jpg", "image/jpeg", 3, "0" * 64)
        case = await service.attach(CITIZEN, case.number, slot.id, ref, version=None)
    return (await service.submit(CITIZEN, case.number, version=None)).number


async def issue(service: CaseService, number: str) -> None:
    await service.approve(GA, number, version=None)
    await service.act(GA, number, Action.ISSUE_CERTIFICATE, version=None, reason=None)


@pytest.fixture
async def fortnight(service: CaseService, clock: Clock) -> dict[str, str]:
    """Two weeks of one office, Monday 2 to Friday 13 November 2026; the clock ends on the 13th."""
    clock.now = on(2)
    a, b, c, d, e = [await submit(service, RESIDENCE) for _ in range(5)]
    await issue(service, b)  # decided the day it came in
    await service.rate(CITIZEN, b, "非常满意", version=None)
    clock.now = on(4)  # Wednesday: a's notice, in time
    await service.return_for_correction(GA, a, BLURRY, version=None)
    clock.now = on(9)  # Monday: a comes back after a pause of Thu, Fri (and the weekend), Mon
    await service.submit(CITIZEN, a, version=None)
    await service.reject(GA, c, "不符合申领条件", "《居住证暂行条例》第九条", version=None)
    await service.rate(CITIZEN, c, "非常不满意", "等了一周才说不行", version=None)
    clock.now = on(10)  # Tuesday: the five working days for d and e ran out yesterday
    await service.return_for_correction(GA, d, BLURRY, version=None)  # late
    assert await service.deem_overdue_accepted() == [e]
    clock.now = on(11)
    await issue(service, a)
    await service.rate(CITIZEN, a, "满意", version=None)
    g = await submit(service, BENEFIT)
    clock.now = on(13)
    h = await submit(service, RESIDENCE)
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "g": g, "h": h}


async def figures(
    store: SqliteDocumentStore, calendars: CalendarService, clock: Clock, days: int = 90
) -> supervision.Dashboard:
    return await supervision.dashboard(store, calendars, SUPERVISOR, clock(), days=days)


async def test_handling_time_runs_from_the_complete_materials_to_the_decision(
    store: SqliteDocumentStore, calendars: CalendarService, clock: Clock, fortnight: dict[str, str]
) -> None:
    handling = (await figures(store, calendars, clock)).handling
    # b: same day, 0; c: Tue-Fri and Mon, 5; a: from its corrected materials (Mon 9) to the
    # decision (Wed 11), 2: the days it waited on the applicant are not the office's.
    assert handling.decided == 3
    assert handling.mean_days == pytest.approx(7 / 3)
    assert handling.p90_days == 5
    assert [(b.low, b.high, b.count) for b in handling.bins] == [
        (0, 0, 1), (1, 1, 0), (2, 2, 1), (3, 3, 0), (4, 4, 0), (5, 5, 1)
    ]  # fmt: skip


async def test_art_32_counts_first_notices_in_time_and_cases_deemed_accepted(
    store: SqliteDocumentStore, calendars: CalendarService, clock: Clock, fortnight: dict[str, str]
) -> None:
    notices = (await figures(store, calendars, clock)).notices
    # a on the 2nd working day; d on the 6th, a day after the window closed; e had none.
    assert (notices.returned, notices.in_time, notices.deemed_accepted) == (2, 1, 1)
    assert notices.share == pytest.approx(0.5)


async def test_yellow_and_red_cards_are_the_watched_cases_near_or_past_their_limit(
    store: SqliteDocumentStore, calendars: CalendarService, clock: Clock, fortnight: dict[str, str]
) -> None:
    cards = (await figures(store, calendars, clock)).cards
    seen = {c.number: (c.warning, c.remaining_days) for c in cards}
    assert seen == {
        # Deemed accepted as of receipt (Mon 2, Art. 32): 9 of its 7 days to decide used.
        fortnight["e"]: (WarningLevel.RED, -2),
        # d is returned (the applicant's turn: no limit runs); g and h are within the five
        # days to accept, 2 and 0 of them used.
    }
    assert cards[0].number == fortnight["e"]  # red first
    assert cards[0].matter == "居住证首次申领" and cards[0].department == "市公安局"


async def test_counts_by_state_department_and_rating_level(
    store: SqliteDocumentStore, calendars: CalendarService, clock: Clock, fortnight: dict[str, str]
) -> None:
    d = await figures(store, calendars, clock)
    assert {c.key: c.count for c in d.by_state} == {
        "submitted": 2, "returned": 1, "deemed_accepted": 1, "certificate_issued": 2,
        "rejected": 1,
    }  # fmt: skip
    live = {c.key: c.count for c in d.by_department}
    # 在办 is what the office still owes: the two with their certificate issued are done.
    assert live["ga"] == 3 and live["rs"] == 1 and live["mz"] == 0
    assert [(c.label, c.count) for c in d.ratings] == [
        ("非常满意", 1), ("满意", 1), ("基本满意", 0), ("不满意", 0), ("非常不满意", 1)
    ]  # fmt: skip
    assert [f["case"] for f in d.follow_ups] == [fortnight["c"]]


async def test_rates_look_back_over_the_chosen_period_only(
    store: SqliteDocumentStore, calendars: CalendarService, clock: Clock, fortnight: dict[str, str]
) -> None:
    clock.advance(days=40)
    d = await figures(store, calendars, clock, days=30)
    assert d.handling.decided == 0 and d.notices.returned == 0
    assert sum(c.count for c in d.ratings) == 0
    assert sum(c.count for c in d.by_state) == 7  # counts are live, not of a period
    assert (await figures(store, calendars, clock, days=90)).handling.decided == 3


async def test_the_export_has_every_submitted_case_with_its_working_days(
    store: SqliteDocumentStore,
    calendars: CalendarService,
    service: CaseService,
    clock: Clock,
    fortnight: dict[str, str],
) -> None:
    await service.open(CITIZEN, RESIDENCE)
    rows = {r[0]: r async for r in supervision.case_rows(store, calendars, SUPERVISOR, clock())}
    assert len(rows) == 7  # the draft is not in it
    # 5 days to the refusal; the due date kept is the last limit that ran: Art. 32's five days.
    refused = ["不予许可", "2026-11-02", "2026-11-09", "5", "", "非常不满意"]
    assert rows[fortnight["c"]][3:] == refused
    assert rows[fortnight["e"]][6:8] == ["9", "红牌"]
    assert rows[fortnight["a"]][6:8] == ["2", ""]  # issued on the 11th, 2 days after correction


async def test_only_supervisors_get_the_figures(
    store: SqliteDocumentStore, calendars: CalendarService, clock: Clock
) -> None:
    with pytest.raises(NotPermitted):
        await supervision.dashboard(store, calendars, GA, clock(), days=90)
    with pytest.raises(NotPermitted):
        await anext(supervision.case_rows(store, calendars, RS, clock()))
