"""The seeds' targets per department and month: 跑一次, time used, and the shares around them."""

from __future__ import annotations

from typing import Any

from app.domain.targets import CaseFacts, Figure, MonthFigures, monthly_figures


def _fact(**kw: Any) -> CaseFacts:
    base: dict[str, Any] = {"department": "ga", "month": "2026-12", "online": True}
    return CaseFacts(**(base | {"finished": True} | kw))


def _by_key(month: MonthFigures) -> dict[str, Figure]:
    return {f.target.key: f for f in month.figures}


def test_nine_in_ten_finished_with_at_most_one_visit_meets_seed_003() -> None:
    facts = [_fact(visits=0)] * 6 + [_fact(visits=1)] * 3 + [_fact(visits=2)]
    [month] = monthly_figures(facts)
    visits = _by_key(month)["visits"]
    assert visits.value == 0.9 and visits.count == 10 and visits.met is True
    [month] = monthly_figures([*facts, _fact(visits=3)])
    assert _by_key(month)["visits"].met is False


def test_cases_still_in_progress_do_not_count_for_visits_but_lower_the_finished_share() -> None:
    [month] = monthly_figures([_fact(visits=0), _fact(finished=False, visits=4)])
    figures = _by_key(month)
    assert figures["visits"].value == 1.0
    assert figures["finished"].value == 0.5


def test_time_used_is_the_mean_share_of_the_legal_limit_and_must_stay_within_half() -> None:
    facts = [_fact(used_days=5, legal_days=20), _fact(used_days=10, legal_days=20)]
    [month] = monthly_figures(facts)
    time_used = _by_key(month)["time_used"]
    assert time_used.value == 0.375 and time_used.met is True
    [month] = monthly_figures([_fact(used_days=15, legal_days=20)])
    assert _by_key(month)["time_used"].met is False


def test_a_hall_visit_without_an_online_case_lowers_only_the_online_share() -> None:
    hall = CaseFacts("ga", "2026-12", online=False, finished=False, visits=1, case=False)
    [month] = monthly_figures([_fact(visits=0), hall])
    figures = _by_key(month)
    assert month.cases == 1
    assert figures["online"].value == 0.5
    assert figures["finished"].value == 1.0 and figures["visits"].value == 1.0


def test_satisfaction_counts_the_two_best_levels_and_no_target_is_invented() -> None:
    facts = [_fact(rating="非常满意"), _fact(rating="基本满意"), _fact(rating=None)]
    [month] = monthly_figures(facts)
    satisfied = _by_key(month)["satisfied"]
    assert satisfied.value == 0.5 and satisfied.count == 2
    assert satisfied.met is None


def test_each_department_and_month_stands_alone_newest_first() -> None:
    facts = [_fact(), _fact(month="2026-11"), _fact(department="mz")]
    assert [(m.month, m.department) for m in monthly_figures(facts)] == [
        ("2026-12", "mz"),
        ("2026-12", "ga"),
        ("2026-11", "ga"),
    ]
