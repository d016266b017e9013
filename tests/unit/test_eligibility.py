"""Age conditions checked from the verified ID number before a case opens; their catalog rules."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.domain.catalog import CatalogInvalid, Eligibility, parse_matter, validate_catalog
from app.domain.eligibility import (
    NotEligible,
    age_on,
    check_eligibility,
    reaches_age_on,
    zh_numeral,
)
from app.domain.errors import DomainError
from app.domain.identity import citizen_id_check_char, parse_citizen_id
from tests.unit.test_catalog import matter, shipped

ELDERLY_BASIS = "《中华人民共和国老年人权益保障法》第二条"
ELDERLY = Eligibility(min_age=60, basis=ELDERLY_BASIS)
MINOR = Eligibility(max_age=18, basis="《中华人民共和国未成年人保护法》第二条")


def id_number(born: date) -> str:
    first17 = f"350102{born:%Y%m%d}123"
    return first17 + citizen_id_check_char(first17)


def refusal(rule: Eligibility | None, born: date, today: date) -> NotEligible:
    with pytest.raises(NotEligible) as caught:
        check_eligibility(rule, birth_date=born, today=today)
    return caught.value


def test_the_day_before_the_sixtieth_birthday_is_refused_citing_the_law_and_the_day() -> None:
    today = date(2031, 3, 4)
    born = parse_citizen_id(id_number(date(1971, 3, 5)), today=today).birth_date

    refused = refusal(ELDERLY, born, today)

    assert refused.message == (
        "该事项要求申请人年满六十周岁（《中华人民共和国老年人权益保障法》第二条），"
        "按您的身份证号，您将于 2031年3月5日 年满六十周岁，届时再来申请。"
    )
    assert (refused.condition, refused.basis) == ("年满六十周岁", ELDERLY_BASIS)
    assert refused.eligible_from == date(2031, 3, 5)
    assert refused.code == "not_eligible"
    assert isinstance(refused, DomainError)


def test_on_the_sixtieth_birthday_and_after_the_applicant_is_accepted() -> None:
    born = date(1971, 3, 5)

    check_eligibility(ELDERLY, birth_date=born, today=date(2031, 3, 5))
    check_eligibility(ELDERLY, birth_date=born, today=date(2050, 1, 1))


def test_a_matter_without_eligibility_accepts_anyone() -> None:
    check_eligibility(None, birth_date=date(2025, 1, 1), today=date(2025, 1, 1))


def test_someone_born_on_29_february_reaches_an_age_on_1_march_in_a_common_year() -> None:
    born = date(2004, 2, 29)
    adult = Eligibility(min_age=18, basis="《中华人民共和国民法典》第十七条")

    assert reaches_age_on(born, 18) == date(2022, 3, 1)
    assert refusal(adult, born, date(2022, 2, 28)).eligible_from == date(2022, 3, 1)
    assert "您将于 2022年3月1日 年满十八周岁" in refusal(adult, born, date(2022, 2, 28)).message
    check_eligibility(adult, birth_date=born, today=date(2022, 3, 1))


def test_someone_born_on_29_february_reaches_an_age_on_29_february_in_a_leap_year() -> None:
    born = date(1964, 2, 29)

    assert reaches_age_on(born, 60) == date(2024, 2, 29)
    assert refusal(ELDERLY, born, date(2024, 2, 28)).eligible_from == date(2024, 2, 29)
    check_eligibility(ELDERLY, birth_date=born, today=date(2024, 2, 29))


def test_a_century_year_that_is_not_leap_moves_29_february_to_1_march_too() -> None:
    assert reaches_age_on(date(2096, 2, 29), 4) == date(2100, 3, 1)


@pytest.mark.parametrize(
    ("today", "age"),
    [
        (date(2022, 2, 28), 17),
        (date(2022, 3, 1), 18),
        (date(2024, 2, 28), 19),
        (date(2024, 2, 29), 20),
        (date(2004, 2, 29), 0),
    ],
)
def test_age_on_counts_full_years_with_29_february_births(today: date, age: int) -> None:
    assert age_on(date(2004, 2, 29), today) == age


def test_under_the_maximum_age_is_accepted_and_from_that_birthday_refused() -> None:
    born = date(2004, 3, 5)

    check_eligibility(MINOR, birth_date=born, today=date(2022, 3, 4))
    refused = refusal(MINOR, born, date(2022, 3, 5))

    assert refused.message == (
        "该事项要求申请人未满十八周岁（《中华人民共和国未成年人保护法》第二条），"
        "按您的身份证号，您已于 2022年3月5日 年满十八周岁，不能申请该事项；"
        "如有疑问，请咨询办理部门。"
    )
    assert refused.eligible_from is None


def test_a_range_of_ages_checks_both_ends() -> None:
    working = Eligibility(min_age=16, max_age=60, basis="示例依据")
    born = date(2000, 6, 1)

    assert refusal(working, born, date(2016, 5, 31)).condition == "年满十六周岁"
    check_eligibility(working, birth_date=born, today=date(2016, 6, 1))
    check_eligibility(working, birth_date=born, today=date(2060, 5, 31))
    assert refusal(working, born, date(2060, 6, 1)).condition == "未满六十周岁"


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "零"),
        (6, "六"),
        (10, "十"),
        (16, "十六"),
        (18, "十八"),
        (60, "六十"),
        (65, "六十五"),
        (100, "一百"),
        (105, "一百零五"),
        (110, "一百一十"),
        (150, "一百五十"),
    ],
)
def test_ages_are_written_in_chinese_numerals_as_laws_write_them(n: int, text: str) -> None:
    assert zh_numeral(n) == text


# --- the catalog ------------------------------------------------------------------------------


def citizen_matter(eligibility: dict[str, Any], conditions: list[str]) -> dict[str, Any]:
    return matter(targets=["citizen"], conditions=conditions, eligibility=eligibility)


def problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(CatalogInvalid) as caught:
        parse_matter(data, source="x.yaml")
    return [(p.field, p.message) for p in caught.value.problems]


def test_the_shipped_elderly_card_requires_sixty_under_the_law_s_second_article() -> None:
    by_name = {m.name: m for m in validate_catalog(shipped())}
    elderly = by_name["老年人优待证办理"]

    assert elderly.eligibility == ELDERLY
    assert "年满六十周岁（依据《中华人民共和国老年人权益保障法》第二条" in elderly.guide_text()
    assert all(m.eligibility is None for m in by_name.values() if m is not elderly)


def test_a_minimum_age_above_the_maximum_is_refused_saying_nobody_could_qualify() -> None:
    data = citizen_matter(
        {"min_age": 60, "max_age": 18, "basis": "示例"}, ["年满六十周岁", "未满十八周岁"]
    )

    [(field, message)] = problems(data)

    assert field == "eligibility"
    assert "min_age 60 须小于 max_age 18" in message
    assert "没有人能符合" in message


def test_equal_minimum_and_maximum_ages_are_refused_too() -> None:
    data = citizen_matter({"min_age": 18, "max_age": 18, "basis": "示例"}, ["年满十八周岁"])

    assert [field for field, _ in problems(data)] == ["eligibility"]


@pytest.mark.parametrize(
    ("eligibility", "field", "message"),
    [
        ({"basis": "示例"}, "eligibility", "至少填写"),
        ({"min_age": 151, "basis": "示例"}, "eligibility.min_age", "必须小于等于 150"),
        ({"max_age": 0, "basis": "示例"}, "eligibility.max_age", "必须大于等于 1"),
        ({"min_age": 60.0, "basis": "示例"}, "eligibility.min_age", "必须是整数"),
        ({"min_age": 60}, "eligibility.basis", "缺少必填项"),
        ({"min_age": 60, "basis": "示例", "region": "3501"}, "eligibility.region", "不是可识别"),
    ],
)
def test_each_bad_eligibility_is_reported_by_field_in_chinese(
    eligibility: dict[str, Any], field: str, message: str
) -> None:
    [(found_field, found_message)] = problems(citizen_matter(eligibility, ["年满六十周岁"]))

    assert found_field == field
    assert message in found_message


def test_a_checked_condition_must_be_stated_in_the_guide_s_conditions() -> None:
    data = citizen_matter({"min_age": 60, "basis": "示例"}, ["年满60周岁"])

    [(field, message)] = problems(data)

    assert field == "conditions"
    assert "“年满六十周岁”" in message


def test_a_condition_may_state_the_age_inside_a_longer_sentence() -> None:
    data = citizen_matter({"min_age": 60, "basis": "示例"}, ["年满六十周岁的本市常住老年人"])

    assert parse_matter(data, source="x.yaml").eligibility == Eligibility(min_age=60, basis="示例")


def test_an_age_condition_is_refused_on_a_matter_for_enterprises() -> None:
    data = matter(conditions=["年满六十周岁"], eligibility={"min_age": 60, "basis": "示例"})

    assert [field for field, _ in problems(data)] == ["eligibility"]
