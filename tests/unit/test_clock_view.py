"""The limit a page shows is the one running: the decision's, then the certificate's, then none."""

from __future__ import annotations

from datetime import timedelta

from app.domain.case_states import Action
from app.edge.views import clock_view
from tests.unit.test_cases import CITIZEN, MON, REVIEWER, WEEKDAYS, at, complete_case


def test_after_the_grant_the_page_counts_the_ten_days_to_issue_then_nothing() -> None:
    case = complete_case()
    case.submit(CITIZEN, at(MON))
    accepting = clock_view(case, WEEKDAYS, MON + timedelta(days=1))
    assert accepting is not None and accepting["period"] == "acceptance"
    assert accepting["limit_days"] == 5 and accepting["remaining_days"] == 4
    case.approve(REVIEWER, at(MON + timedelta(days=2)))
    issuing = clock_view(case, WEEKDAYS, MON + timedelta(days=3))
    assert issuing is not None and issuing["period"] == "issuing"  # 行政许可法 Art. 44
    assert (issuing["limit_days"], issuing["used_days"]) == (10, 1)
    case.act(Action.ISSUE_CERTIFICATE, REVIEWER, at(MON + timedelta(days=3)))
    assert clock_view(case, WEEKDAYS, MON + timedelta(days=30)) is None  # delivery is not late
