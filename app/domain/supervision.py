"""Rules behind the supervision figures: clocks watched, handling time, Art. 32, spread."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from app.domain.case_states import TERMINAL, Action, State
from app.domain.legal_clock import LegalClock
from app.domain.workdays import (
    Pause,
    WarningLevel,
    WorkCalendar,
    deemed_acceptance_date,
    remaining_working_days,
    used_working_days,
    warning_level,
)

# Once the result is issued, what is left (delivery, the applicant's rating) is no longer the
# office's time: the reviewer's queue never shows these states, and neither do the warnings.
AFTER_ISSUE = frozenset({State.CERTIFICATE_ISSUED, State.DELIVERING, State.DELIVERED})
# States whose legal clock supervisors watch: submitted, not finished by the office.
WATCHED = frozenset(State) - TERMINAL - AFTER_ISSUE - {State.DRAFT}
# States counted 在办: the office still owes a result (drafts are the applicant's own; an issued
# certificate is what the applicant was told is done, delivery and rating are not the office's).
LIVE = frozenset(State) - TERMINAL - AFTER_ISSUE - {State.DRAFT}

# The decision the handling time runs to (行政许可法 Art. 42 limits the time to decide).
DECISIONS = (Action.APPROVE.value, Action.REJECT.value)
# The actions after which the office's clock is over: a refusal, a withdrawal, the result issued.
CLOCK_ENDS = (
    Action.REJECT.value,
    Action.REFUSE.value,
    Action.WITHDRAW.value,
    Action.ISSUE_CERTIFICATE.value,
)

WARNING_ZH = {WarningLevel.GREEN: "正常", WarningLevel.YELLOW: "黄牌", WarningLevel.RED: "红牌"}


@dataclass(frozen=True)
class Clock:
    """A watched case's legal clock today, as the reviewer's queue shows it."""

    limit_days: int
    used_days: int
    remaining_days: int
    warning: WarningLevel


def watch(clock: LegalClock | None, calendar: WorkCalendar, today: date) -> Clock | None:
    """The running limit of a case under watch as the queue shows it, or None when none runs."""
    if clock is None:
        return None
    limit, used = clock.limit_days, clock.used(calendar, today)
    return Clock(limit, used, remaining_working_days(limit, used), warning_level(limit, used))


def warning_horizon(calendar: WorkCalendar, today: date, longest_limit: int) -> date:
    """The latest stored due date a case at yellow or red can have today.

    Yellow means at most 20 % of the limit (or 1 day) is left, so no case of any matter is
    yellow with its due date more than ``max(1, longest_limit // 5)`` working days away. A
    stored due date is never later than the real one (an open pause only moves it later), so
    filtering on it misses nothing; the five extra days cover calendar overrides entered since.
    """
    return calendar.add_working_days(today, max(1, longest_limit // 5) + 5)


def handling_days(
    calendar: WorkCalendar, submitted_on: date, ended_on: date, pauses: Sequence[Pause]
) -> int:
    """Working days from submission to ``ended_on`` with the clock running (pauses left out)."""
    # Pauses after the end do not matter: only days up to ``ended_on`` are looked at, and a
    # pause still open is taken to last until then.
    return used_working_days(calendar, submitted_on, ended_on, pauses)


def notice_in_time(calendar: WorkCalendar, submitted_on: date, noticed_on: date) -> bool:
    """行政许可法 Art. 32: the correction notice came within five working days of receipt."""
    return noticed_on <= deemed_acceptance_date(calendar, submitted_on)


Number = TypeVar("Number", int, float)


def mean(values: Sequence[int]) -> float | None:
    return sum(values) / len(values) if values else None


def percentile(values: Sequence[Number], q: int) -> Number | None:
    """Nearest-rank percentile: the smallest value with at least ``q`` % of values at or below."""
    if not 0 < q <= 100:
        raise ValueError("a percentile lies in (0, 100]")
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(q * len(ordered) / 100) - 1]


@dataclass(frozen=True)
class Bin:
    low: int  # inclusive
    high: int  # inclusive
    count: int

    @property
    def label(self) -> str:
        return f"{self.low}" if self.low == self.high else f"{self.low}–{self.high}"


def histogram(values: Sequence[int], *, max_bins: int = 8) -> list[Bin]:
    """Counts of whole-day values in equal bins from 0, at most ``max_bins`` of them."""
    if not values:
        return []
    if min(values) < 0:
        raise ValueError("working days are never negative")
    top = max(values)
    width = max(1, math.ceil((top + 1) / max_bins))
    counts = [0] * (top // width + 1)
    for value in values:
        counts[value // width] += 1
    return [Bin(n * width, n * width + width - 1, c) for n, c in enumerate(counts)]


__all__ = [
    "AFTER_ISSUE",
    "CLOCK_ENDS",
    "DECISIONS",
    "LIVE",
    "WARNING_ZH",
    "WATCHED",
    "Bin",
    "Clock",
    "handling_days",
    "histogram",
    "mean",
    "notice_in_time",
    "percentile",
    "warning_horizon",
    "watch",
]
