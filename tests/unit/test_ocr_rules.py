"""The pre-check's rules: the right kind, the applicant's own, valid long enough, never a guess."""

from __future__ import annotations

from datetime import date

from ocr.quality import BLURRY
from ocr.rules import FIX, PASS, REVIEW, Expectation, judge, machine_failed, unopenable
from ocr.text import EXACT, NONE

TODAY = date(2026, 11, 25)
MINE = "11010519491231002X"
THEIRS = "11010519800101003X"


def front(
    number: str | None = MINE, name: str | None = "张三"
) -> dict[str, tuple[str | None, str]]:
    return {
        "id_number": (number, EXACT) if number else NONE,
        "name": (name, EXACT) if name else NONE,
    }


def expect(kind: str = "id_card_front", **kw: object) -> Expectation:
    return Expectation(kind, TODAY, person_id=MINE, holder_name="张三", **kw)  # type: ignore[arg-type]


def codes(verdict: object) -> list[str]:
    return [f.code for f in verdict.findings]  # type: ignore[attr-defined]


def test_the_applicants_own_sharp_card_passes() -> None:
    verdict = judge(expect(), [], "id_card_front", front())
    assert verdict.status == PASS and verdict.findings == ()
    assert verdict.fields["id_number"] == MINE


def test_someone_elses_card_needs_a_fix() -> None:
    verdict = judge(expect(), [], "id_card_front", front(THEIRS))
    assert verdict.status == FIX and codes(verdict) == ["NOT_APPLICANT"]
    assert verdict.findings[0].field == "id_number"


def test_an_unreadable_number_goes_to_the_reviewer_not_back_to_the_applicant() -> None:
    verdict = judge(expect(), [], "id_card_front", front(None))
    assert verdict.status == REVIEW and codes(verdict) == ["FIELD_UNREADABLE"]
    assert "公民身份号码" in verdict.findings[0].message


def test_a_blurry_photo_says_blurry_once_rather_than_every_field_it_hides() -> None:
    verdict = judge(expect(), [BLURRY], "id_card_front", front(None, None))
    assert verdict.status == FIX and codes(verdict) == ["BLURRY"]


def test_another_kind_of_document_is_the_wrong_one_even_when_blurry() -> None:
    assert codes(judge(expect(), [], "business_licence", {})) == ["WRONG_KIND"]
    blurry = judge(expect(), [BLURRY], "id_card_back", {})
    assert codes(blurry) == ["BLURRY", "WRONG_KIND"]
    # Unrecognisable and blurry: the blur is the likely cause, so only the blur is reported.
    assert codes(judge(expect(), [BLURRY], "other", {})) == ["BLURRY"]
    assert "居民身份证人像面" in judge(expect(), [], "other", {}).findings[0].message


def test_expiry_on_the_day_of_the_check_and_the_days_the_matter_needs() -> None:
    def back(valid_to: str) -> dict[str, tuple[str | None, str]]:
        return {"valid_to": (valid_to, EXACT)}

    assert codes(judge(expect("id_card_back"), [], "id_card_back", back("2026-11-24"))) == [
        "EXPIRED"
    ]
    assert judge(expect("id_card_back"), [], "id_card_back", back("2026-11-25")).status == PASS
    assert judge(expect("id_card_back"), [], "id_card_back", back("长期")).status == PASS
    soon = judge(expect("id_card_back", valid_for_days=30), [], "id_card_back", back("2026-12-20"))
    assert codes(soon) == ["EXPIRES_SOON"] and "30" in soon.findings[0].message
    renewal = expect("id_card_back", must_be_valid=False)
    assert judge(renewal, [], "id_card_back", back("2020-01-01")).status == PASS


def test_an_enterprise_licence_must_carry_the_enterprises_code() -> None:
    mine, other = "91350100M000100Y43", "91110000100000000D"
    rules = Expectation("business_licence", TODAY, uscc=mine)

    def licence(code: str) -> dict[str, tuple[str | None, str]]:
        return {"uscc": (code, EXACT), "company_name": ("福州示例科技有限公司", EXACT)}

    assert judge(rules, [], "business_licence", licence(mine)).status == PASS
    assert codes(judge(rules, [], "business_licence", licence(other))) == ["NOT_APPLICANT"]


def test_a_number_repaired_by_its_check_character_is_marked_for_the_reviewer() -> None:
    read = front() | {"id_number": (MINE, "corrected")}
    verdict = judge(expect(), [], "id_card_front", read)
    assert verdict.status == PASS and verdict.corrected == ("id_number",)


def test_a_portrait_photo_or_free_form_material_gets_the_quality_checks_only() -> None:
    assert judge(expect("photo"), [], "photo", {}).status == PASS
    assert codes(judge(expect("photo"), [BLURRY], "photo", {})) == ["BLURRY"]
    # An ID card sent where the application form belongs is caught; a form is never "other".
    assert codes(judge(expect("form"), [], "id_card_front", {})) == ["WRONG_KIND"]
    assert judge(expect("form"), [], "other", {}).status == PASS


def test_a_file_that_cannot_be_opened_needs_a_new_photo_and_a_stuck_engine_a_person() -> None:
    bad = unopenable("DAMAGED", "照片文件不完整，请重新拍摄或上传")
    assert bad.status == FIX and codes(bad) == ["DAMAGED"]
    failed = machine_failed()
    assert failed.status == REVIEW and "人工审核" in failed.findings[0].message
