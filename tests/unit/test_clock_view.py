"""The working-day clock a page shows stops when the result is issued."""

from __future__ import annotations

from datetime import timedelta

from app.domain.case_states import Action
from app.edge.views import clock_view
from tests.unit.test_cases import CITIZEN, MON, REVIEWER, WEEKDAYS, at, complete_case


def test_the_clock_stops_on_the_day_the_certificate_is_issued() -> None:
    case = complete_case()
    case.submit(CITIZEN, at(MON))
    case.approve(REVIEWER, at(MON + timedelta(days=2)))
    case.act(Action.ISSUE_CERTIFICATE, REVIEWER, at(MON + timedelta(days=3)))
    on_the_day = clock_view(case, WEEKDAYS, MON + timedelta(days=3))
    weeks_later = clock_view(case, WEEKDAYS, MON + timedelta(days=30))
    assert on_the_day is not None and weeks_later is not None
    assert weeks_later["used_days"] == on_the_day["used_days"] == 3
    assert weeks_later["warning"] is None  # delivery and rating are not late decisions
