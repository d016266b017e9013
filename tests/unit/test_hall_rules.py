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
    Hall,
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
        (date(2026, 11, 11), time(9), "7 个工作日内"),  # the eighth working day from today
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
    listed = [str(b) for b in bring]
    assert "原营业执照正本及全部副本（原件）1 份：照片已在线提交，请带原件供窗口核对" in listed
    assert "法定代表人（负责人）居民身份证国徽面（复印件）1 份" in listed  # to be retaken
    [optional] = [b for b in bring if not b.required]  # listed last, as needed only sometimes
    assert bring[-1] == optional and "授权委托书" in optional.name
    everything, none = what_to_bring(matter, None)
    forms = {b.name: (b.form, b.copies) for b in everything}
    catalog = {m.name: ({"original": "原件", "copy": "复印件", "electronic": "电子材料"}[m.form],
                        m.copies) for m in matter.materials}  # fmt: skip
    assert forms == catalog and none == []  # each exactly as the catalog says, nothing invented


def test_the_window_is_the_next_seven_working_days_skipping_holidays() -> None:
    golden_week = {date(2026, 10, d) for d in range(1, 9)}
    calendar = WorkCalendar(
        overrides={}, statutory=lambda d: d.weekday() < 5 and d not in golden_week
    )
    before = datetime(2026, 9, 30, 1, 0, tzinfo=UTC)  # 09:00 on the eve of the holiday
    days = HallRules().open_days(before, calendar)
    assert days == [date(2026, 9, 30), date(2026, 10, 9), date(2026, 10, 12),
                    date(2026, 10, 13), date(2026, 10, 14), date(2026, 10, 15),
                    date(2026, 10, 16)]  # fmt: skip
    HallRules().check_slot(date(2026, 10, 16), time(9), before, calendar)  # bookable
    with pytest.raises(ValidationFailed, match="7 个工作日内"):
        HallRules().check_slot(date(2026, 10, 19), time(9), before, calendar)


def test_a_hall_is_found_on_a_public_map_by_its_address() -> None:
    hall = Hall("市民政局政务服务窗口", "福建省福州市鼓楼区华林路 88 号", HallRules().hours_zh())
    assert hall.map_url == (
        "https://uri.amap.com/search?keyword="
        "%E7%A6%8F%E5%BB%BA%E7%9C%81%E7%A6%8F%E5%B7%9E%E5%B8%82%E9%BC%93%E6%A5%BC%E5%8C%BA"
        "%E5%8D%8E%E6%9E%97%E8%B7%AF88%E5%8F%B7"
    )
    assert hall.hours == "工作日 09:00—12:00、13:30—17:00（法定节假日休息）"
    assert Hall("市民政局办事窗口", None, hall.hours).map_url is None  # no address, no map


def test_an_administrators_slot_setting_is_read_or_refused() -> None:
    assert slot_places("11:30=2") == (time(11, 30), 2)
    assert slot_places(" 16:30=0 ") == (time(16, 30), 0)  # closed
    assert slot_places("09:00=默认") == slot_places("09:00=default") == (time(9), None)
    for bad in ("11:30", "11:30=two", "25:00=1", "=3"):
        with pytest.raises(ValueError):
            slot_places(bad)
