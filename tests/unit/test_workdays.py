"""The working-day clock: 行政许可法 Art. 32/42/82, the 2026 holiday notice and pauses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.holidays import festival_days
from app.domain.workdays import (
    DEEMED_ACCEPTANCE_DAYS,
    Pause,
    WarningLevel,
    WorkCalendar,
    chinese_statutory,
    deemed_acceptance_date,
    due_date,
    remaining_working_days,
    used_working_days,
    warning_level,
)

# The real 2026 calendar as shipped by chinesecalendar 1.11.0 (国务院办公厅关于2026年部分节假日
# 安排的通知). Dates below were read from the package and match the published notice.
CAL = WorkCalendar({})


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# --- the statutory calendar --------------------------------------------------------------------


def test_national_day_2026_is_off_from_october_1_to_7_per_state_council_notice() -> None:
    assert not any(CAL.is_workday(day) for day in _days(date(2026, 10, 1), date(2026, 10, 7)))
    assert CAL.is_workday(date(2026, 10, 8))


def test_adjusted_weekends_around_national_day_2026_are_working_days() -> None:
    """2026 notice: Sunday 20 September and Saturday 10 October are worked in lieu."""
    assert CAL.is_workday(date(2026, 9, 20))
    assert CAL.is_workday(date(2026, 10, 10))
    assert not CAL.is_workday(date(2026, 10, 11))


def test_mid_autumn_2026_is_off_from_september_25_to_27_per_state_council_notice() -> None:
    assert not any(CAL.is_workday(day) for day in _days(date(2026, 9, 25), date(2026, 9, 27)))


def test_spring_festival_2026_is_off_from_february_15_to_23_with_two_saturdays_worked() -> None:
    """2026 notice: 15-23 February off; Saturdays 14 and 28 February worked in lieu."""
    assert not any(CAL.is_workday(day) for day in _days(date(2026, 2, 15), date(2026, 2, 23)))
    assert CAL.is_workday(date(2026, 2, 14))
    assert CAL.is_workday(date(2026, 2, 28))


def test_chinese_statutory_answers_none_for_years_the_package_does_not_ship() -> None:
    assert chinese_statutory(date(2026, 10, 1)) is False
    assert chinese_statutory(date(2026, 10, 10)) is True
    assert chinese_statutory(date(2027, 1, 4)) is None
    assert chinese_statutory(date(2003, 12, 31)) is None


# --- overrides and fallback --------------------------------------------------------------------


def test_override_turns_a_saturday_into_a_working_day() -> None:
    cal = WorkCalendar({date(2026, 3, 7): True})
    assert cal.is_workday(date(2026, 3, 7))
    assert cal.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 7)


def test_override_turns_a_wednesday_off() -> None:
    cal = WorkCalendar({date(2026, 3, 11): False})
    assert not cal.is_workday(date(2026, 3, 11))
    assert cal.add_working_days(date(2026, 3, 10), 1) == date(2026, 3, 12)


def test_override_wins_over_the_statutory_holiday() -> None:
    assert WorkCalendar({date(2026, 10, 1): True}).is_workday(date(2026, 10, 1))


def test_later_changes_to_the_callers_overrides_do_not_move_the_calendar() -> None:
    overrides = {date(2026, 3, 11): False}
    cal = WorkCalendar(overrides)
    overrides[date(2026, 3, 11)] = True
    assert not cal.is_workday(date(2026, 3, 11))


def test_1_january_2027_is_off_though_no_state_council_schedule_for_2027_is_known() -> None:
    # 《全国年节及纪念日放假办法》 Art. 2: 元旦 is a day off, whatever the yearly notice adds.
    assert not CAL.covers(2027)
    assert CAL.covers(2026)
    assert not CAL.is_workday(date(2027, 1, 1))  # a Friday
    assert not CAL.is_workday(date(2027, 1, 2))
    assert CAL.is_workday(date(2027, 1, 4))
    assert CAL.uncovered_years([2027, 2026, 2028, 2027]) == [2027, 2028]


def test_spring_festival_2027_is_off_with_its_weekend_days_given_back() -> None:
    # 春节 2027: 除夕 5 February (Fri), 初一 to 初三 6-8 February. Art. 2 gives those four days;
    # Art. 6 gives back the Saturday and Sunday among them on the next working days.
    spring = [date(2027, 2, d) for d in (5, 6, 7, 8)]
    assert festival_days(2027)["春节"] == tuple(spring)
    assert not any(CAL.is_workday(day) for day in [*spring, date(2027, 2, 9), date(2027, 2, 10)])
    assert CAL.is_workday(date(2027, 2, 11))
    assert CAL.is_workday(date(2027, 2, 4))


def test_every_festival_the_law_fixes_is_off_in_a_provisional_year() -> None:
    days = festival_days(2028)
    # Art. 2: 元旦 1, 春节 4, 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3 — thirteen days.
    assert sum(len(d) for d in days.values()) == 13
    assert days["清明节"] == (date(2028, 4, 4),)
    assert days["端午节"] == (date(2028, 5, 28),)
    assert days["中秋节"] == (date(2028, 10, 3),)  # the same day as the third of 国庆
    assert all(not CAL.is_workday(day) for festival in days.values() for day in festival)


def test_a_case_received_on_28_december_2026_is_deemed_accepted_after_new_years_day() -> None:
    # Art. 32: five working days from receipt; 1 January 2027 does not count.
    assert deemed_acceptance_date(CAL, date(2026, 12, 28)) == date(2027, 1, 5)


def test_years_an_administrator_confirmed_by_overrides_count_as_covered() -> None:
    # The State Council's schedule entered day by day (here: 2 January a working Saturday)
    # replaces the law's guess: in a confirmed year only the entered days are off.
    cal = WorkCalendar({date(2027, 1, 1): False, date(2027, 1, 2): True}, confirmed_years=[2027])
    assert cal.covers(2027)
    assert not cal.is_workday(date(2027, 1, 1))
    assert cal.is_workday(date(2027, 1, 2))
    assert cal.is_workday(date(2027, 2, 9))  # no 补假 guessed once the year is confirmed


def test_injected_statutory_source_is_consulted_before_the_weekday_fallback() -> None:
    cal = WorkCalendar({}, statutory=lambda day: day.day != 15)
    assert not cal.is_workday(date(2030, 5, 15))
    assert cal.is_workday(date(2030, 5, 18))


def test_calendar_without_any_working_day_fails_instead_of_looping() -> None:
    with pytest.raises(ValueError, match="no working day"):
        WorkCalendar({}, statutory=lambda day: False).next_workday(date(2026, 1, 1))


# --- counting (民法典 Art. 201, 行政许可法 Art. 82) ----------------------------------------------


def test_start_day_is_not_counted_per_civil_code_art_201() -> None:
    assert CAL.add_working_days(date(2026, 3, 2), 1) == date(2026, 3, 3)
    assert CAL.working_days_between(date(2026, 3, 2), date(2026, 3, 3)) == 1


def test_zero_working_days_after_start_is_start_itself_even_on_a_holiday() -> None:
    assert CAL.add_working_days(date(2026, 10, 1), 0) == date(2026, 10, 1)


def test_negative_working_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_days(date(2026, 3, 2), -1)


def test_counting_across_national_day_2026_skips_the_holiday_and_uses_the_saturday() -> None:
    """行政许可法 Art. 82: periods exclude statutory holidays; adjusted Saturdays count."""
    assert CAL.next_workday(date(2026, 9, 30)) == date(2026, 10, 8)
    assert CAL.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert CAL.add_working_days(date(2026, 9, 30), 4) == date(2026, 10, 12)


def test_working_days_between_counts_the_half_open_interval() -> None:
    assert CAL.working_days_between(date(2026, 2, 13), date(2026, 2, 28)) == 6
    assert CAL.working_days_between(date(2026, 3, 3), date(2026, 3, 3)) == 0
    assert CAL.working_days_between(date(2026, 3, 9), date(2026, 3, 2)) == 0


def test_art_42_twenty_working_days_run_across_spring_festival_2026() -> None:
    """行政许可法 Art. 42: 20 working days from 10 Feb 2026 end on 16 March, not 2 March."""
    assert due_date(CAL, date(2026, 2, 10), 20, [], date(2026, 2, 10)) == date(2026, 3, 16)


# --- pauses ------------------------------------------------------------------------------------

STARTED = date(2026, 3, 2)  # a Monday; March 2026 has no holiday
CORRECTION = Pause(date(2026, 3, 4), date(2026, 3, 9))  # stops Thu 5, Fri 6, Mon 9


def test_correction_pause_of_three_working_days_pushes_the_due_date_by_three() -> None:
    assert due_date(CAL, STARTED, 20, [], STARTED) == date(2026, 3, 30)
    assert due_date(CAL, STARTED, 20, [CORRECTION], date(2026, 3, 20)) == date(2026, 4, 2)
    assert CAL.add_working_days(date(2026, 3, 30), 3) == date(2026, 4, 2)


def test_pause_start_day_counts_and_pause_end_day_does_not() -> None:
    # (2 Mar, 10 Mar] has 6 working days; the pause stops 5, 6 and 9 March.
    assert used_working_days(CAL, STARTED, date(2026, 3, 4), [CORRECTION]) == 2
    assert used_working_days(CAL, STARTED, date(2026, 3, 9), [CORRECTION]) == 2
    assert used_working_days(CAL, STARTED, date(2026, 3, 10), [CORRECTION]) == 3


def test_pause_over_a_weekend_costs_only_its_working_days() -> None:
    weekend = Pause(date(2026, 3, 6), date(2026, 3, 9))
    assert used_working_days(CAL, STARTED, date(2026, 3, 10), [weekend]) == 5


def test_open_pause_stops_the_clock_through_today_and_moves_the_due_date_daily() -> None:
    waiting = Pause(date(2026, 3, 4))
    assert used_working_days(CAL, STARTED, date(2026, 3, 9), [waiting]) == 2
    assert due_date(CAL, STARTED, 20, [waiting], date(2026, 3, 9)) == date(2026, 4, 2)
    assert due_date(CAL, STARTED, 20, [waiting], date(2026, 3, 10)) == date(2026, 4, 3)


def test_overlapping_pauses_stop_each_day_only_once() -> None:
    overlapping = [CORRECTION, Pause(date(2026, 3, 5), date(2026, 3, 6))]
    assert used_working_days(CAL, STARTED, date(2026, 3, 10), overlapping) == 3


def test_pause_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Pause(date(2026, 3, 9), date(2026, 3, 4))


@given(
    started=st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 6, 30)),
    limit=st.integers(min_value=0, max_value=60),
    offsets=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 15)), max_size=3),
)
def test_due_date_is_the_first_day_on_which_the_used_days_reach_the_limit(
    started: date, limit: int, offsets: list[tuple[int, int]]
) -> None:
    pauses = [
        Pause(started + timedelta(days=a), started + timedelta(days=a + b)) for a, b in offsets
    ]
    due = due_date(CAL, started, limit, pauses, started)
    assert used_working_days(CAL, started, due, pauses) == limit
    if limit:
        assert used_working_days(CAL, started, due - timedelta(days=1), pauses) == limit - 1


# --- warnings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "used", "level"),
    [
        (20, 15, WarningLevel.GREEN),
        (20, 16, WarningLevel.YELLOW),
        (20, 20, WarningLevel.YELLOW),
        (20, 21, WarningLevel.RED),
        (3, 1, WarningLevel.GREEN),
        (3, 2, WarningLevel.YELLOW),
        (3, 4, WarningLevel.RED),
    ],
)
def test_art_42_warning_turns_yellow_at_20_percent_or_one_day_and_red_when_overdue(
    limit: int, used: int, level: WarningLevel
) -> None:
    assert warning_level(limit, used) is level


def test_remaining_working_days_go_negative_when_overdue() -> None:
    assert remaining_working_days(20, 16) == 4
    assert remaining_working_days(20, 21) == -1


def test_warning_level_refuses_negative_inputs() -> None:
    with pytest.raises(ValueError, match="negative"):
        warning_level(20, -1)


def test_warning_levels_serialise_as_lowercase_words() -> None:
    assert [str(level) for level in WarningLevel] == ["green", "yellow", "red"]


# --- 行政许可法 Art. 32 ----------------------------------------------------------------------


def test_art_32_deemed_acceptance_is_five_working_days_after_submission() -> None:
    assert DEEMED_ACCEPTANCE_DAYS == 5
    assert deemed_acceptance_date(CAL, date(2026, 3, 2)) == date(2026, 3, 9)


def test_art_32_deemed_acceptance_runs_across_mid_autumn_and_national_day_2026() -> None:
    # Submitted Thu 24 Sep: 28, 29, 30 Sep, then 8 and 9 Oct after the joint holiday.
    assert deemed_acceptance_date(CAL, date(2026, 9, 24)) == date(2026, 10, 9)
    # Submitted Wed 30 Sep: 8, 9, 10 (adjusted Saturday), 12, 13 Oct.
    assert deemed_acceptance_date(CAL, date(2026, 9, 30)) == date(2026, 10, 13)
