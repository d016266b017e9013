"""The working-day clock for 行政许可法 time limits: calendar, pauses, due dates and warnings."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType

import chinese_calendar

from app.domain.holidays import festival_days_off

__all__ = [
    "DEEMED_ACCEPTANCE_DAYS",
    "Pause",
    "WarningLevel",
    "WorkCalendar",
    "chinese_statutory",
    "deemed_acceptance_date",
    "due_date",
    "remaining_working_days",
    "used_working_days",
    "warning_level",
]

# 行政许可法 Art. 32: correction notices are due "within five days"; by Art. 82 every period of
# that law is counted in working days, so these are five working days.
DEEMED_ACCEPTANCE_DAYS = 5

# No real calendar closes for a year; a longer run means the calendar data is broken, and
# failing beats looping forever.
_MAX_DAYS_OFF_IN_A_ROW = 366

_ONE_DAY = timedelta(days=1)


# Cached: the package's data is fixed, and every deadline shown walks day by day through it
# (its per-day checks were a third of the chat's answer to a case number).
@functools.lru_cache(maxsize=4096)
def chinese_statutory(day: date) -> bool | None:
    """Return True/False for a worked/off day per the State Council notices, None if unknown."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        # The package raises for years it does not ship (it covers 2004-2026 in 1.11.0).
        return None


class WorkCalendar:
    """Says which days are working days: overrides, statutory data, the law's festivals, Mon-Fri.

    A year without statutory data is *provisional*: its days off are the festivals the law
    fixes (``app.domain.holidays``) until an administrator enters the State Council's schedule
    as overrides and confirms the year; a confirmed year is overrides over Monday to Friday.
    """

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        statutory: Callable[[date], bool | None] = chinese_statutory,
        *,
        confirmed_years: Iterable[int] = (),
    ) -> None:
        # Copied so that a later change to the caller's dict cannot move a running deadline.
        self._overrides: Mapping[date, bool] = MappingProxyType(dict(overrides or {}))
        self._statutory = statutory
        # Years an administrator has fully entered as overrides (the State Council's notice
        # for next year came out before the package was upgraded); they count as covered.
        self._confirmed_years = frozenset(confirmed_years)

    @property
    def confirmed_years(self) -> frozenset[int]:
        return self._confirmed_years

    def is_workday(self, day: date) -> bool:
        """Return whether public offices work on ``day``."""
        override = self._overrides.get(day)
        if override is not None:
            return override
        statutory = self._statutory(day)
        if statutory is not None:
            return statutory
        # Without the year's schedule the law's own festivals are the best guess (not the
        # State Council's 调休 swaps); `uncovered_years` tells administrators to enter them.
        if day.year not in self._confirmed_years and day in festival_days_off(day.year):
            return False
        return day.weekday() < 5

    def covers(self, year: int) -> bool:
        """Return whether the holiday arrangement of ``year`` is known rather than guessed."""
        if year in self._confirmed_years:
            return True
        return all(
            self._statutory(day) is not None for day in (date(year, 1, 1), date(year, 12, 31))
        )

    def uncovered_years(self, years: Iterable[int]) -> list[int]:
        """Return, sorted and without repeats, the years in ``years`` that are not covered."""
        return sorted({year for year in years if not self.covers(year)})

    def next_workday(self, day: date) -> date:
        """Return the first working day strictly after ``day``."""
        candidate = day + _ONE_DAY
        for _ in range(_MAX_DAYS_OFF_IN_A_ROW):
            if self.is_workday(candidate):
                return candidate
            candidate += _ONE_DAY
        raise ValueError(f"no working day within a year after {day.isoformat()}")

    def add_working_days(self, start: date, n: int) -> date:
        """Return the n-th working day after ``start`` (``start`` itself is never counted)."""
        # 民法典 Art. 201: a period counted in days starts on the day after the event, and
        # 行政许可法 Art. 82 counts that law's periods in working days only.
        if n < 0:
            raise ValueError("the number of working days must not be negative")
        day = start
        for _ in range(n):
            day = self.next_workday(day)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Return the number of working days in (start, end]; 0 when end is not after start."""
        return sum(1 for day in _days_after(start, end) if self.is_workday(day))


def _days_after(start: date, end: date) -> Iterable[date]:
    """Yield every day in (start, end]."""
    day = start + _ONE_DAY
    while day <= end:
        yield day
        day += _ONE_DAY


@dataclass(frozen=True)
class Pause:
    """A stop of the clock: a period 行政许可法 Art. 45 leaves out (testing, expert review…).

    The clock is stopped on the days in (start, end]: the day the pause begins still counts,
    because the office worked on the case that day; the day it ends does not, and counting
    resumes the day after, as with any period (民法典 Art. 201). ``end`` None means still paused.
    """

    start: date
    end: date | None = None
    reason: str = ""  # what the period is for and its basis, as the applicant was told

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError("a pause cannot end before it starts")

    def stops(self, day: date, *, today: date) -> bool:
        """Return whether the clock is stopped on ``day``, an open pause lasting until ``today``."""
        end = self.end if self.end is not None else today
        return self.start < day <= end


def _counts(cal: WorkCalendar, day: date, pauses: Sequence[Pause], today: date) -> bool:
    return cal.is_workday(day) and not any(pause.stops(day, today=today) for pause in pauses)


def used_working_days(
    cal: WorkCalendar, started: date, today: date, pauses: Sequence[Pause]
) -> int:
    """Return the working days in (started, today] on which no pause stopped the clock."""
    # A day inside two overlapping pauses is subtracted once, since each day is tested once.
    return sum(1 for day in _days_after(started, today) if _counts(cal, day, pauses, today))


def due_date(
    cal: WorkCalendar, started: date, limit_days: int, pauses: Sequence[Pause], today: date
) -> date:
    """Return the day on which ``limit_days`` unpaused working days after ``started`` run out."""
    # An open pause is taken to end today: the deadline moves on by one day for every working
    # day it stays open, and the date shown is the earliest the office can still be held to.
    if limit_days < 0:
        raise ValueError("a time limit must not be negative")
    day, counted = started, 0
    while counted < limit_days:
        day = cal.next_workday(day)
        if not any(pause.stops(day, today=today) for pause in pauses):
            counted += 1
    return day


class WarningLevel(StrEnum):
    """How close a case is to its time limit, as shown on the reviewer's queue."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def remaining_working_days(limit_days: int, used_days: int) -> int:
    """Return the working days left before the limit; negative by the number of days overdue."""
    return limit_days - used_days


def warning_level(limit_days: int, used_days: int) -> WarningLevel:
    """Return RED when overdue, YELLOW when ≤ 20% of the limit or 1 day is left, else GREEN."""
    if limit_days < 0 or used_days < 0:
        raise ValueError("time limits and used days must not be negative")
    remaining = remaining_working_days(limit_days, used_days)
    if remaining < 0:
        return WarningLevel.RED
    # Integer form of remaining <= 20% of the limit, so 4 of 20 is exactly on the line.
    if remaining * 5 <= limit_days or remaining <= 1:
        return WarningLevel.YELLOW
    return WarningLevel.GREEN


def deemed_acceptance_date(cal: WorkCalendar, submitted_on: date) -> date:
    """Return the last day for a correction notice; after it the application counts as accepted.

    行政许可法 Art. 32: if the office has not told the applicant every correction at once by the
    end of this day, the application is accepted as of the day the materials were received.
    """
    return cal.add_working_days(submitted_on, DEEMED_ACCEPTANCE_DAYS)
