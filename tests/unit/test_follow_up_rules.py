"""Bad-rating follow-ups: which ratings open one, its due date in working days, closing it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.domain.actors import Actor, Role
from app.domain.case_states import Action
from app.domain.cases import RATINGS, Case
from app.domain.errors import InvalidTransition, NotPermitted, ValidationFailed
from app.domain.follow_ups import FollowUp, follow_up_due, needs_follow_up
from app.domain.workdays import WorkCalendar
from tests.unit.test_cases import CITIZEN, MON, REVIEWER, WEEKDAYS, at, submitted

SUPERVISOR = Actor("s1", Role.SUPERVISOR)


def issued() -> Case:
    case = submitted()
    case.approve(REVIEWER, at(MON))
    case.act(Action.ISSUE_CERTIFICATE, REVIEWER, at(MON))
    return case


def test_only_the_two_bad_levels_call_for_a_follow_up() -> None:
    assert [needs_follow_up(level) for level in RATINGS] == [False, False, False, True, True]


def test_the_due_date_is_the_fifteenth_working_day_after_the_beijing_rating_day() -> None:
    # 17:30 UTC on Monday is 01:30 on Tuesday in Beijing: the rating day is Tuesday 3 Nov.
    rated = datetime(2026, 11, 2, 17, 30, tzinfo=UTC)
    assert follow_up_due(WEEKDAYS, rated) == date(2026, 11, 24)
    # A day off in between (an administrator's override) moves it by one working day.
    closed = WorkCalendar({date(2026, 11, 11): False}, statutory=lambda d: d.weekday() < 5)
    assert follow_up_due(closed, rated) == date(2026, 11, 25)


def test_a_bad_rating_makes_a_follow_up_with_the_case_facts_and_a_good_one_none() -> None:
    good = issued()
    good.rate("满意", "", CITIZEN, at(MON))
    assert FollowUp.for_rating(good, WEEKDAYS) is None
    assert FollowUp.for_rating(issued(), WEEKDAYS) is None  # not rated yet

    bad = issued()
    bad.rate("非常不满意", "  等了很久  ", CITIZEN, at(MON))
    item = FollowUp.for_rating(bad, WEEKDAYS)
    assert item is not None and item.is_open
    assert (item.case, item.department, item.matter_code) == ("BC1", "scjg", "M1")
    assert (item.level, item.comment, item.matter_name) == (
        "非常不满意",
        "等了很久",
        "营业执照换发",
    )
    assert item.due_on == date(2026, 11, 23)


def test_only_a_supervisor_closes_a_follow_up_once_and_says_what_was_done() -> None:
    case = issued()
    case.rate("不满意", "", CITIZEN, at(MON))
    item = FollowUp.for_rating(case, WEEKDAYS)
    assert item is not None
    with pytest.raises(NotPermitted):
        item.close(REVIEWER, "已整改", at(MON))
    with pytest.raises(ValidationFailed, match="处理结果"):
        item.close(SUPERVISOR, "   ", at(MON))
    with pytest.raises(ValidationFailed, match="2000"):
        item.close(SUPERVISOR, "字" * 2001, at(MON))
    item.close(SUPERVISOR, " 已电话回访，窗口人员已整改 ", at(MON, 15))
    assert not item.is_open
    assert (item.closed_by, item.resolution) == ("s1", "已电话回访，窗口人员已整改")
    with pytest.raises(InvalidTransition, match="已经办结"):
        item.close(SUPERVISOR, "再次处理", at(MON, 16))
    assert item.resolution == "已电话回访，窗口人员已整改"


def test_whether_a_case_may_be_rated_is_told_before_a_level_is_chosen() -> None:
    case = submitted()
    with pytest.raises(InvalidTransition, match="办结后才能评价"):
        case.check_rateable(CITIZEN)
    case = issued()
    case.check_rateable(CITIZEN)
    with pytest.raises(NotPermitted):
        case.check_rateable(Actor("u2", Role.APPLICANT))
    case.rate("满意", "", CITIZEN, at(MON))
    with pytest.raises(InvalidTransition, match="已经评价过了"):
        case.check_rateable(CITIZEN)
