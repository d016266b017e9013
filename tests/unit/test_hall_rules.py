"""Hall slots: when a window is open, what cannot be booked, cut-offs and no-show limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.domain.appointments import CHECKED_IN, Booking, HallRules
from app.domain.errors import InvalidTransition, ValidationFailed
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
