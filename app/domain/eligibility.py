"""Conditions of a matter checked from verified facts before a case opens: the applicant's age.

Ages are 周岁 in the civil sense: a person reaches N 周岁 on their Nth birthday itself (the rule
of 法释〔2006〕1号 第二条, "from the day after the birthday", is for criminal responsibility only).
Someone born on 29 February reaches N on 1 March when the Nth year has no 29 February: that is the
first day on which N full years have certainly passed, and it is what comparing (month, day), the
way registry systems compute 周岁, gives. The birth date comes from the verified ID number
(``parse_citizen_id``), the day is the Beijing date of the application; both are the caller's.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Protocol

from app.domain.errors import DomainError

__all__ = [
    "AGE_LIMIT",
    "AgeRule",
    "NotEligible",
    "age_on",
    "check_eligibility",
    "max_age_condition",
    "min_age_condition",
    "reaches_age_on",
    "zh_date",
    "zh_numeral",
]

# The oldest age a catalog may name; nobody with a valid ID number (born 1900 or later) is older.
AGE_LIMIT = 150


class AgeRule(Protocol):
    """The age limits of a matter and the article that sets them (the catalog's Eligibility)."""

    @property
    def min_age(self) -> int | None: ...

    @property
    def max_age(self) -> int | None: ...

    @property
    def basis(self) -> str: ...


class NotEligible(DomainError):
    """The applicant does not meet a condition checked from verified facts; the message says
    which, under which article, and what to do next."""

    code = "not_eligible"

    def __init__(self, message: str, *, condition: str, basis: str, eligible_from: date | None):
        super().__init__(message)
        self.condition = condition
        self.basis = basis
        # The day the applicant may apply (a minimum age not reached yet); None: never.
        self.eligible_from = eligible_from


def reaches_age_on(birth_date: date, years: int) -> date:
    """The day someone born on ``birth_date`` reaches ``years`` 周岁 (29 February: 1 March)."""
    year = birth_date.year + years
    if (birth_date.month, birth_date.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 3, 1)
    return birth_date.replace(year=year)


def age_on(birth_date: date, today: date) -> int:
    """Full years (周岁) someone born on ``birth_date`` has reached on ``today``."""
    if today < birth_date:
        raise ValueError("today is before the birth date")
    years = today.year - birth_date.year
    return years if today >= reaches_age_on(birth_date, years) else years - 1


def min_age_condition(years: int) -> str:
    """The condition as the guide states it, e.g. 年满六十周岁."""
    return f"年满{zh_numeral(years)}周岁"


def max_age_condition(years: int) -> str:
    """The condition as the guide states it, e.g. 未满十八周岁."""
    return f"未满{zh_numeral(years)}周岁"


def check_eligibility(rule: AgeRule | None, *, birth_date: date, today: date) -> None:
    """Raise NotEligible unless someone born on ``birth_date`` meets ``rule`` on ``today``."""
    if rule is None:
        return
    if rule.min_age is not None:
        due = reaches_age_on(birth_date, rule.min_age)
        if today < due:
            condition = min_age_condition(rule.min_age)
            raise NotEligible(
                f"该事项要求申请人{condition}（{rule.basis}），按您的身份证号，"
                f"您将于 {zh_date(due)} {condition}，届时再来申请。",
                condition=condition,
                basis=rule.basis,
                eligible_from=due,
            )
    if rule.max_age is not None:
        past = reaches_age_on(birth_date, rule.max_age)
        if today >= past:
            condition = max_age_condition(rule.max_age)
            raise NotEligible(
                f"该事项要求申请人{condition}（{rule.basis}），按您的身份证号，"
                f"您已于 {zh_date(past)} 年满{zh_numeral(rule.max_age)}周岁，不能申请该事项；"
                "如有疑问，请咨询办理部门。",
                condition=condition,
                basis=rule.basis,
                eligible_from=None,
            )


def zh_date(day: date) -> str:
    """A date as Chinese notices write it: 2031年3月5日."""
    return f"{day.year}年{day.month}月{day.day}日"


_DIGITS = "零一二三四五六七八九"


def zh_numeral(n: int) -> str:
    """An age in Chinese numerals as laws write it: 六十, 十八, 一百零五, 一百一十."""
    if not 0 <= n <= 999:
        raise ValueError("zh_numeral handles 0 to 999")
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _DIGITS[n // 10] + "十" + (_DIGITS[n % 10] if n % 10 else "")
    rest = n % 100
    head = _DIGITS[n // 100] + "百"
    if rest == 0:
        return head
    if rest < 10:
        return head + "零" + _DIGITS[rest]
    # Past a hundred the tens keep their 一: 一百一十, not 一百十.
    return head + _DIGITS[rest // 10] + "十" + (_DIGITS[rest % 10] if rest % 10 else "")
