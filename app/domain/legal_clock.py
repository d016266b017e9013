"""Which legal time limit runs on a case, from when, and for how many working days.

行政许可法 sets three, one after the other:
- Art. 32: five working days from receiving the materials to accept, refuse or give the one
  correction notice; afterwards the application is accepted as of the day of receipt.
- Art. 42: from acceptance, twenty working days to decide (the matter's own law may set
  another; the catalog's committed limit, never longer, is the one kept), extendable once by
  ten with the approval of the head of the department.
- Art. 44: from the decision to grant, ten working days to issue the certificate.
Only the periods Art. 45 names (hearings, tendering, auctions, testing, inspection,
quarantine, appraisal, expert review) stop the decision clock, each told to the applicant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.domain.case_states import BEFORE_ACCEPTANCE, BEFORE_ISSUE, DECIDING, State
from app.domain.workdays import (
    DEEMED_ACCEPTANCE_DAYS,
    Pause,
    WarningLevel,
    WorkCalendar,
    due_date,
    remaining_working_days,
    used_working_days,
    warning_level,
)

EXTENSION_DAYS = 10  # Art. 42
ISSUING_DAYS = 10  # Art. 44
# Art. 45: the only periods not counted in the decision's time limit.
ART45_KINDS = ("听证", "招标", "拍卖", "检验", "检测", "检疫", "鉴定", "专家评审")
# Waiting on the applicant before acceptance (payment asked first) still runs Art. 32's days:
# paying is not receiving. A returned case waits on the applicant with no clock at all.
_AWAITING_ACCEPTANCE = BEFORE_ACCEPTANCE | {State.AWAITING_PAYMENT, State.PAID}


class Period(StrEnum):
    ACCEPTANCE = "acceptance"
    DECISION = "decision"
    ISSUING = "issuing"


PERIOD_ZH = {
    Period.ACCEPTANCE: "受理（五个工作日内受理或一次性告知补正，行政许可法第三十二条）",
    Period.DECISION: "作出决定（行政许可法第四十二条）",
    Period.ISSUING: "颁发证件（作出准予许可决定后十个工作日内，行政许可法第四十四条）",
}


@dataclass(frozen=True)
class LegalClock:
    """One running limit: counted in working days after ``started``, pauses left out."""

    period: Period
    started: date
    limit_days: int
    pauses: tuple[Pause, ...] = ()

    def used(self, calendar: WorkCalendar, today: date) -> int:
        return used_working_days(calendar, self.started, today, self.pauses)

    def due(self, calendar: WorkCalendar, today: date) -> date:
        return due_date(calendar, self.started, self.limit_days, self.pauses, today)

    def remaining(self, calendar: WorkCalendar, today: date) -> int:
        return remaining_working_days(self.limit_days, self.used(calendar, today))

    def warning(self, calendar: WorkCalendar, today: date) -> WarningLevel:
        return warning_level(self.limit_days, self.used(calendar, today))


def clock_of(
    state: State,
    *,
    window_start: date | None,
    accepted_on: date | None,
    decided_on: date | None,
    limit_days: int,
    extension_days: int = 0,
    pauses: Sequence[Pause] = (),
) -> LegalClock | None:
    """The limit running on a case in ``state`` now, or None (a draft, the applicant's turn,
    or the office's part done)."""
    if state in DECIDING and accepted_on is not None:
        return LegalClock(Period.DECISION, accepted_on, limit_days + extension_days, tuple(pauses))
    if state in BEFORE_ISSUE and decided_on is not None:
        return LegalClock(Period.ISSUING, decided_on, ISSUING_DAYS)
    if state in _AWAITING_ACCEPTANCE and window_start is not None and decided_on is None:
        return LegalClock(Period.ACCEPTANCE, window_start, DEEMED_ACCEPTANCE_DAYS)
    return None
