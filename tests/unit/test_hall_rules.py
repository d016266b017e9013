"""Hall slots: when a window is open, what cannot be booked, cut-offs and no-show limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import yaml

from app.domain.actors import Actor, Authority, Role, enterprise
from app.domain.appointments import (
    CHECKED_IN,
    RESCHEDULED,
    Booking,
    HallRules,
    slot_places,
    what_to_bring,
)
from app.domain.cases import Case, MaterialRef, MatterTerms, Slot
from app.domain.catalog import parse_matter
from app.domain.errors import InvalidTransition, ValidationFailed
from app.domain.prechecks import MachineFinding, Precheck
from app.domain.workdays import WorkCalendar

WEEKDAYS = WorkCalendar(overrides={}, statutory=lambda d: d.weekday() < 5)
MONDAY_10AM = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
TUESDAY = date(2026, 11, 3)


def test_a_day_opens_thirteen_half_hour_slots_morning_and_afternoon() -> None:
    slots = HallRules().slots()
    assert slots[0] == time(9) and slots[5] == time(11, 30) and slots[6] == time(13, 30)
    assert slots[-1] == time(16, 30) and len(slots) == 13


@pytest.mark.parametrize(
    ("day", "slot", "says"),
    [
        (date(2026, 11, 2), time(9), "已经过去"),  # this morning, already over
        (date(2026, 11, 7), time(9), "不开放"),  # a Saturday
        (TUESDAY, time(12, 30), "开放时间"),  # the lunch break
        (TUESDAY, time(9, 15), "开放时间"),  # not a slot start
        (date(2026, 11, 30), time(9), "天内"),  # too far ahead
    ],
)
def test_a_slot_that_cannot_be_booked_is_refused_with_a_reason(
    day: date, slot: time, says: str
) -> None:
    with pytest.raises(ValidationFailed, match=says):
        HallRules().check_slot(day, slot, MONDAY_10AM, WEEKDAYS)


def test_a_hall_closure_closes_a_working_day() -> None:
    rules = HallRules(closures=frozenset({TUESDAY}))
    with pytest.raises(ValidationFailed, match="不开放"):
        rules.check_slot(TUESDAY, time(9), MONDAY_10AM, WEEKDAYS)
    assert rules.open_days(MONDAY_10AM, WEEKDAYS)[:2] == [date(2026, 11, 2), date(2026, 11, 4)]


def test_three_no_shows_in_thirty_days_restrict_booking_for_thirty_days() -> None:
    rules = HallRules()
    misses = [MONDAY_10AM - timedelta(days=d) for d in (20, 10, 2)]
    until = rules.restricted_until(misses, MONDAY_10AM)
    assert until == misses[-1] + timedelta(days=30)
    assert rules.restricted_until(misses[:2], MONDAY_10AM) is None
    assert rules.restricted_until(misses, misses[-1] + timedelta(days=31)) is None


def booking() -> Booking:
    return Booking("b1", "u1", "M1", "mz", TUESDAY, time(9), MONDAY_10AM)


def test_cancelling_closes_at_the_cut_off_and_a_code_checks_in_once_on_its_day() -> None:
    late = datetime(2026, 11, 3, 0, 30, tzinfo=UTC)  # 08:30 Beijing, half an hour before
    with pytest.raises(InvalidTransition, match="不足 2 小时"):
        booking().cancel(HallRules(), late)
    b = booking()
    with pytest.raises(InvalidTransition, match="预约当天"):
        b.check_in(date(2026, 11, 2), 1, MONDAY_10AM)
    b.check_in(TUESDAY, 7, late)
    assert (b.state, b.queue_number) == (CHECKED_IN, 7)
    with pytest.raises(InvalidTransition, match="不能再次签到"):
        b.check_in(TUESDAY, 8, late)


def test_a_reschedule_ends_the_old_booking_until_the_cut_off_only() -> None:
    old, new = booking(), Booking("b2", "u1", "M1", "mz", TUESDAY, time(10), MONDAY_10AM)
    with pytest.raises(ValidationFailed, match="相同"):
        old.move_to(Booking("b3", "u1", "M1", "mz", TUESDAY, time(9), MONDAY_10AM),
                    HallRules(), MONDAY_10AM)  # fmt: skip
    old.move_to(new, HallRules(), MONDAY_10AM)
    assert (old.state, old.moved_to, new.moved_from) == (RESCHEDULED, "b2", "b1")
    with pytest.raises(InvalidTransition, match="新的预约二维码"):
        old.check_in(TUESDAY, 1, MONDAY_10AM)
    late = datetime(2026, 11, 3, 0, 45, tzinfo=UTC)  # 08:45 Beijing for a 10:00 slot
    with pytest.raises(InvalidTransition, match="不足 1 小时 30 分钟"):
        new.move_to(booking(), HallRules(cutoff=timedelta(minutes=90)), late)
    assert new.state == "booked"


def test_the_wait_runs_from_the_later_of_check_in_and_slot_start_to_the_call() -> None:
    early = booking()  # the 09:00 slot
    early.check_in(TUESDAY, 1, datetime(2026, 11, 3, 0, 50, tzinfo=UTC))  # 08:50
    assert early.wait_minutes() is None  # not called yet
    early.call(datetime(2026, 11, 3, 1, 12, tzinfo=UTC))  # 09:12
    assert early.wait_minutes() == 12  # the ten early minutes are the visitor's own
    late = booking()
    late.check_in(TUESDAY, 2, datetime(2026, 11, 3, 1, 20, tzinfo=UTC))  # 09:20
    late.call(datetime(2026, 11, 3, 1, 25, tzinfo=UTC))
    assert late.wait_minutes() == 5
    with pytest.raises(InvalidTransition, match="不能叫号"):
        late.call(datetime(2026, 11, 3, 1, 26, tzinfo=UTC))
    late.serve(datetime(2026, 11, 3, 1, 40, tzinfo=UTC))
    with pytest.raises(InvalidTransition, match="不能再次签到"):
        late.check_in(TUESDAY, 3, datetime(2026, 11, 3, 1, 41, tzinfo=UTC))


def test_what_to_bring_leaves_out_copies_the_case_holds_but_never_an_original() -> None:
    path = Path(__file__).parents[2] / "app/catalog/scjg-yingye-zhizhao-huanfa.yaml"
    matter = parse_matter(yaml.safe_load(path.read_text("utf-8")), source=path.name)
    firm = enterprise("91350100M000100Y43")
    agent = Actor("a1", Role.APPLICANT, authorities=(Authority(firm),))
    slots = tuple(Slot(m.id, m.name, m.required) for m in matter.materials)
    terms = MatterTerms(matter.code, 1, matter.name, "scjg", 10, 0, True, slots)
    case = Case.open("BC1", terms, agent, MONDAY_10AM, on_behalf_of=firm)
    for slot in ("application_form", "old_licence", "legal_rep_id_front", "legal_rep_id_back"):
        case.attach(slot, MaterialRef(f"k/{slot}", "image/jpeg", 1, "0" * 64), agent, MONDAY_10AM)
    blurry = MachineFinding("blurry", "照片模糊，请重新拍摄")
    verdict = Precheck("k/legal_rep_id_back", "fix", "id_card_back", (blurry,), MONDAY_10AM)
    case.prechecks["legal_rep_id_back"] = verdict
    bring, held = what_to_bring(matter, case)
    on_case = {"application_form", "legal_rep_id_front"}
    assert held == [m.name for m in matter.materials if m.id in on_case]
    assert any("原营业执照" in b and "请带原件核对" in b for b in bring)
    assert any("国徽面" in b for b in bring)  # the pre-check asked for a new photo of it
    assert not any("授权委托书" in b for b in bring)  # optional materials are not listed
    everything, none = what_to_bring(matter, None)
    assert len(everything) == 4 and none == []


def test_an_administrators_slot_setting_is_read_or_refused() -> None:
    assert slot_places("11:30=2") == (time(11, 30), 2)
    assert slot_places(" 16:30=0 ") == (time(16, 30), 0)  # closed
    assert slot_places("09:00=默认") == slot_places("09:00=default") == (time(9), None)
    for bad in ("11:30", "11:30=two", "25:00=1", "=3"):
        with pytest.raises(ValueError):
            slot_places(bad)
