"""The rules behind the supervision figures: percentiles, bins, watched clocks, Art. 32."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.case_states import State
from app.domain.legal_clock import clock_of
from app.domain.supervision import (
    handling_days,
    histogram,
    mean,
    notice_in_time,
    percentile,
    warning_horizon,
    watch,
)
from app.domain.workdays import Pause, WarningLevel, WorkCalendar

WEEKDAYS = WorkCalendar(statutory=lambda d: d.weekday() < 5)
MONDAY = date(2026, 11, 2)


def test_p90_is_the_nearest_rank_so_it_is_always_a_value_that_occurred() -> None:
    assert percentile(list(range(1, 11)), 90) == 9
    assert percentile(list(range(1, 12)), 90) == 10  # rank ceil(9.9) = 10
    assert percentile([7], 90) == 7
    assert percentile([], 90) is None and mean([]) is None
    assert mean([1, 2]) == pytest.approx(1.5)
    with pytest.raises(ValueError):
        percentile([1], 0)


def test_a_histogram_has_at_most_eight_equal_bins_from_zero() -> None:
    assert histogram([]) == []
    small = histogram([0, 2, 2])
    assert [(b.label, b.count) for b in small] == [("0", 1), ("1", 0), ("2", 2)]
    wide = histogram([0, 3, 19, 20])
    assert len(wide) <= 8 and wide[0].label == "0–2" and sum(b.count for b in wide) == 4
    assert wide[-1].low <= 20 <= wide[-1].high


def test_handling_days_leave_out_the_days_the_applicant_had_the_case() -> None:
    friday = date(2026, 11, 13)
    assert handling_days(WEEKDAYS, MONDAY, friday, []) == 9
    returned = Pause(date(2026, 11, 4), date(2026, 11, 9))  # Thu, Fri, Mon not counted
    assert handling_days(WEEKDAYS, MONDAY, friday, [returned]) == 6
    later = Pause(date(2026, 11, 20), None)  # paused after the end: no effect
    assert handling_days(WEEKDAYS, MONDAY, friday, [returned, later]) == 6


def test_a_notice_on_the_fifth_working_day_is_in_time_and_the_next_day_is_late() -> None:
    assert notice_in_time(WEEKDAYS, MONDAY, date(2026, 11, 9))
    assert not notice_in_time(WEEKDAYS, MONDAY, date(2026, 11, 10))


def test_only_cases_with_a_running_limit_are_watched() -> None:
    friday = date(2026, 11, 13)
    for state in (State.DRAFT, State.CERTIFICATE_ISSUED, State.DELIVERED, State.REJECTED):
        running = clock_of(
            state, window_start=MONDAY, accepted_on=MONDAY, decided_on=MONDAY, limit_days=7
        )
        assert watch(running, WEEKDAYS, friday) is None
    deciding = clock_of(
        State.ACCEPTED, window_start=None, accepted_on=MONDAY, decided_on=None, limit_days=7
    )
    clock = watch(deciding, WEEKDAYS, friday)
    assert clock is not None and clock.warning is WarningLevel.RED and clock.remaining_days == -2
    # Before acceptance the five days of Art. 32 run: on the first Friday one is left.
    accepting = clock_of(
        State.UNDER_REVIEW, window_start=MONDAY, accepted_on=None, decided_on=None, limit_days=7
    )
    clock = watch(accepting, WEEKDAYS, date(2026, 11, 6))
    assert clock is not None and clock.limit_days == 5 and clock.remaining_days == 1


def test_the_warning_horizon_reaches_as_far_as_the_longest_limit_can_turn_yellow() -> None:
    # 20 % of 30 days is 6, plus five days of margin for calendar changes.
    assert warning_horizon(WEEKDAYS, MONDAY, 30) == WEEKDAYS.add_working_days(MONDAY, 11)
    assert warning_horizon(WEEKDAYS, MONDAY, 0) == WEEKDAYS.add_working_days(MONDAY, 6)
