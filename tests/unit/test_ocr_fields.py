"""Fields read from OCR lines: ID numbers and USCCs are repaired only when one repair fits."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.domain import identity
from ocr import findings
from ocr.checkchars import (
    USCC_CHARSET,
    citizen_id_check_char,
    citizen_id_ok,
    organization_code_check_char,
    uscc_check_char,
    uscc_ok,
)
from ocr.correct import CONFUSIONS, USCC_LOOKALIKES, correct_citizen_id, correct_uscc
from ocr.fields import (
    extract_business_licence,
    extract_certificate,
    extract_id_back,
    extract_id_front,
)

ID = "11010519491231002X"  # female, born 1949-12-31
USCC = "91350100M000100Y43"
TODAY = date(2026, 11, 25)


def with_check(first17: str) -> str:
    return first17 + citizen_id_check_char(first17)


def substitute(text: str, changes: dict[int, str]) -> str:
    chars = list(text)
    for i, char in changes.items():
        chars[i] = char
    return "".join(chars)


# --- check characters ---------------------------------------------------------------------------


@given(st.text("0123456789", min_size=17, max_size=17))
def test_the_citizen_id_check_char_agrees_with_the_domain(first17: str) -> None:
    assert citizen_id_check_char(first17) == identity.citizen_id_check_char(first17)


@given(st.text(USCC_CHARSET, min_size=17, max_size=17))
def test_the_uscc_check_char_agrees_with_the_domain(first17: str) -> None:
    assert uscc_check_char(first17) == identity.uscc_check_char(first17)
    assert organization_code_check_char(first17[8:16]) == identity.organization_code_check_char(
        first17[8:16]
    )


@given(st.text(USCC_CHARSET, min_size=18, max_size=18))
def test_uscc_ok_agrees_with_the_domain(code: str) -> None:
    assert uscc_ok(code) == identity.is_valid_uscc(code)


def test_a_wrong_check_char_fails_and_the_right_one_passes() -> None:
    assert citizen_id_ok(ID) and not citizen_id_ok(ID[:17] + "1")
    assert uscc_ok(USCC) and not uscc_ok(USCC[:17] + "4")


# --- citizen ID correction ------------------------------------------------------------------------


def test_a_valid_id_number_is_taken_exactly_after_folding_spaces_full_width_and_lower_x() -> None:
    assert correct_citizen_id("１１０１０５ 1949 1231 002x", {}) == (ID, "exact")


def test_an_o_read_for_a_zero_is_corrected_when_it_matches_the_printed_birth_date() -> None:
    raw = substitute(ID, {2: "O"})
    assert correct_citizen_id(raw, {"birth_date": "1949年12月31日", "sex": "女"}) == (
        ID,
        "corrected",
    )


def two_valid_readings() -> tuple[str, set[str]]:
    """An OCR'd ID with two confusable region digits that two different valid numbers explain."""
    for i, j in itertools.combinations(range(2, 6), 2):
        for ci, cj in itertools.product("SZ", repeat=2):
            for di, dj in itertools.product(CONFUSIONS[ci], CONFUSIONS[cj]):
                number = with_check(substitute(ID[:17], {i: di, j: dj}))
                raw = substitute(number, {i: ci, j: cj})
                valid = {
                    substitute(raw, {i: a, j: b})
                    for a, b in itertools.product(CONFUSIONS[ci], CONFUSIONS[cj])
                }
                valid = {v for v in valid if citizen_id_ok(v)}
                if len(valid) >= 2:
                    return raw, valid
    raise AssertionError("no ambiguous reading found")


def test_two_confusable_positions_that_two_valid_numbers_explain_are_unreadable() -> None:
    raw, valid = two_valid_readings()
    assert len(valid) >= 2
    assert correct_citizen_id(raw, {"birth_date": "1949-12-31", "sex": "女"}) == (
        None,
        "unreadable",
    )


def test_a_failing_check_digit_that_no_confusion_explains_is_unreadable() -> None:
    assert correct_citizen_id(ID[:16] + "3X", {}) == (None, "unreadable")


def test_a_repair_must_match_the_printed_birth_date_and_sex() -> None:
    raw = substitute(ID, {2: "O"})
    assert correct_citizen_id(raw, {"birth_date": "1950年1月1日"}) == (None, "unreadable")
    assert correct_citizen_id(raw, {"sex": "男"}) == (None, "unreadable")


def test_a_missing_character_is_never_guessed() -> None:
    assert correct_citizen_id(ID[:17], {}) == (None, "unreadable")
    assert correct_citizen_id(ID[:10] + "?" + ID[11:], {}) == (None, "unreadable")


def test_more_than_three_substitutions_are_unreadable() -> None:
    raw = substitute(ID, {1: "l", 3: "O", 5: "S", 6: "l"})
    assert correct_citizen_id(raw, {"birth_date": "1949-12-31"}) == (None, "unreadable")


def inverse(table: dict[str, set[str]]) -> dict[str, list[str]]:
    """For each true character, the characters OCR may print instead of it."""
    out: dict[str, list[str]] = {}
    for printed, truths in table.items():
        for truth in truths:
            out.setdefault(truth, []).append(printed)
    return {truth: sorted(printed) for truth, printed in out.items()}


ID_INVERSE = inverse({printed: set(truths) for printed, truths in CONFUSIONS.items()})


@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from(["11", "31", "35", "44", "51", "65"]))
    county = draw(st.text("0123456789", min_size=4, max_size=4))
    born = draw(st.dates(date(1900, 1, 1), date(2020, 12, 31)))
    sequence = draw(st.text("0123456789", min_size=3, max_size=3))
    return with_check(f"{province}{county}{born:%Y%m%d}{sequence}")


@st.composite
def corrupted(
    draw: st.DrawFn, strategy: st.SearchStrategy[str], table: dict[str, list[str]]
) -> tuple[str, str]:
    """A valid code and the code with one to three characters misread per ``table``."""
    original = draw(strategy)
    positions = [i for i, char in enumerate(original) if char in table]
    chosen = draw(st.lists(st.sampled_from(positions), min_size=1, max_size=3, unique=True))
    changes = {i: draw(st.sampled_from(table[original[i]])) for i in chosen}
    return original, substitute(original, changes)


@given(corrupted(valid_ids(), ID_INVERSE), st.booleans())
def test_an_id_repair_is_the_original_number_or_nothing(pair: tuple[str, str], told: bool) -> None:
    original, raw = pair
    context = {"birth_date": f"{original[6:10]}年{original[10:12]}月{original[12:14]}日"}
    value, how = correct_citizen_id(raw, context if told else {})
    assert value in {original, None}
    assert how == ("corrected" if value else "unreadable")


# --- USCC correction ------------------------------------------------------------------------------


def test_a_valid_uscc_is_taken_exactly() -> None:
    assert correct_uscc("9135 0100 m000 100y43", {}) == (USCC, "exact")


def test_an_o_in_a_uscc_is_corrected_into_the_charset() -> None:
    assert correct_uscc(substitute(USCC, {4: "O", 11: "O"}), {}) == (USCC, "corrected")


def test_a_uscc_repair_outside_the_known_region_is_refused() -> None:
    raw = substitute(USCC, {4: "O"})
    assert correct_uscc(raw, {"region": "3501"}) == (USCC, "corrected")
    assert correct_uscc(raw, {"region": "1101"}) == (None, "unreadable")


def test_a_uscc_that_no_confusion_repairs_is_unreadable() -> None:
    assert correct_uscc(USCC[:16] + "K3", {}) == (None, "unreadable")


USCC_INVERSE = inverse(
    {
        printed: {
            t for t in set(USCC_LOOKALIKES.get(printed, "")) | set(CONFUSIONS.get(printed, ""))
        }
        for printed in set(USCC_LOOKALIKES) | set(CONFUSIONS)
    }
)


@st.composite
def valid_usccs(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from("159ANY")) + draw(st.sampled_from("1239"))
    region = draw(st.text("0123456789", min_size=6, max_size=6))
    body = draw(st.text(USCC_CHARSET, min_size=8, max_size=8))
    first17 = head + region + body + organization_code_check_char(body)
    return first17 + uscc_check_char(first17)


@given(corrupted(valid_usccs(), USCC_INVERSE))
def test_a_uscc_repair_is_the_original_code_or_nothing(pair: tuple[str, str]) -> None:
    original, raw = pair
    # A misreading that is itself a valid code cannot be told from a right reading.
    assume(not uscc_ok(raw.upper()))
    value, _ = correct_uscc(raw, {})
    assert value in {original, None}


# --- ID card front ------------------------------------------------------------------------------

FRONT = [
    "姓名 王小红",
    "性别 女  民族 汉",
    "出生 1949年12月31日",
    "住址 北京市西城区西长安街",
    "174号院3号楼",
    "公民身份号码 11010519491231002X",
]


def test_a_clean_id_front_yields_every_field() -> None:
    assert extract_id_front(FRONT) == {
        "name": ("王小红", "exact"),
        "sex": ("女", "exact"),
        "birth_date": ("1949-12-31", "exact"),
        "address": ("北京市西城区西长安街174号院3号楼", "exact"),
        "id_number": (ID, "exact"),
        "mismatch": (None, "consistent"),
    }


def test_a_noisy_id_front_is_read_through_spaces_colons_full_width_and_next_line_values() -> None:
    noisy = [
        "姓 名：王 小 红",
        "性 别 女 民 族 汉",
        "出 生 １９４９ 年 １２ 月 ３１ 日",
        "住 址:",
        "北京市西城区西长安街",
        "公 民 身 份 号 码",
        "11O1O5 1949 1231 002X",
    ]
    fields = extract_id_front(noisy)
    assert fields["name"] == ("王小红", "exact")
    assert fields["birth_date"] == ("1949-12-31", "exact")
    assert fields["address"] == ("北京市西城区西长安街", "exact")
    assert fields["id_number"] == (ID, "corrected")


def test_an_unreadable_birth_date_is_reported_not_derived_from_the_id_number() -> None:
    lines = [line if not line.startswith("出生") else "出生 19##年" for line in FRONT]
    fields = extract_id_front(lines)
    assert fields["birth_date"] == (None, "unreadable")
    assert fields["id_number"] == (ID, "exact")


def test_a_printed_birth_date_that_disagrees_with_the_id_number_is_marked() -> None:
    lines = [line if not line.startswith("出生") else "出生 1950年1月1日" for line in FRONT]
    fields = extract_id_front(lines)
    assert fields["id_number"] == (ID, "exact")
    assert fields["mismatch"] == ("birth_date", "mismatch")


def test_an_id_number_without_its_label_is_found_as_an_18_character_token() -> None:
    fields = extract_id_front([*FRONT[:5], "11010519491231002X"])
    assert fields["id_number"] == (ID, "exact")


# --- ID card back, licence, certificate -----------------------------------------------------------


def test_the_id_back_gives_issuer_and_validity_period() -> None:
    lines = [
        "中华人民共和国",
        "居民身份证",
        "签发机关 北京市公安局西城分局",
        "有效期限 2015.03.01-2035.03.01",
    ]
    assert extract_id_back(lines) == {
        "issuer": ("北京市公安局西城分局", "exact"),
        "valid_from": ("2015-03-01", "exact"),
        "valid_to": ("2035-03-01", "exact"),
    }


def test_an_id_back_valid_for_life_says_long_term() -> None:
    fields = extract_id_back(["签 发 机 关：北京市公安局", "有 效 期 限：2010．05．06－长期"])
    assert fields["valid_from"] == ("2010-05-06", "exact")
    assert fields["valid_to"] == ("长期", "exact")


LICENCE = [
    "营业执照",
    "统一社会信用代码",
    "9135O100M000100Y43",
    "名 称 福州示例科技有限公司",
    "类 型 有限责任公司",
    "法定代表人 林 一 鸣",
    "营业期限 2010年01月01日 至 长期",
]


def test_a_licence_gives_code_name_representative_and_a_long_term() -> None:
    assert extract_business_licence(LICENCE) == {
        "uscc": (USCC, "corrected"),
        "company_name": ("福州示例科技有限公司", "exact"),
        "legal_representative": ("林一鸣", "exact"),
        "valid_to": ("长期", "exact"),
    }


def test_a_licence_with_a_fixed_term_and_a_responsible_person() -> None:
    lines = [*LICENCE[:5], "负责人：陈明", "营业期限 2010年01月01日至2030年12月31日"]
    fields = extract_business_licence(lines)
    assert fields["legal_representative"] == ("陈明", "exact")
    assert fields["valid_to"] == ("2030-12-31", "exact")


def test_a_certificate_gives_number_holder_and_expiry() -> None:
    lines = ["食品经营许可证", "持证人：李四", "证 号：JY13501000012345", "有效期至 2028年6月30日"]
    assert extract_certificate(lines) == {
        "certificate_number": ("JY13501000012345", "exact"),
        "holder_name": ("李四", "exact"),
        "expiry_date": ("2028-06-30", "exact"),
    }


def test_a_missing_field_is_unreadable() -> None:
    assert extract_certificate(["食品经营许可证"])["expiry_date"] == (None, "unreadable")


# --- findings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("finding", "code", "message"),
    [
        (
            findings.unreadable("身份证号码"),
            "FIELD_UNREADABLE",
            "未能识别身份证号码，请重新拍摄清晰、完整的照片",
        ),
        (findings.wrong_kind("营业执照"), "WRONG_KIND", "上传的不是营业执照，请按材料清单上传"),
        (
            findings.not_applicant("姓名"),
            "NOT_APPLICANT",
            "材料上的姓名与申请人不一致，请上传本人的材料",
        ),
        (findings.expired("2024-01-01"), "EXPIRED", "证件已于2024-01-01过期，请使用有效期内的证件"),
        (
            findings.expires_soon("2026-12-01", 30),
            "EXPIRES_SOON",
            "证件将于2026-12-01到期，不满30天，请先办理换证",
        ),
    ],
)
def test_each_finding_tells_the_applicant_what_to_do(
    finding: findings.Finding, code: str, message: str
) -> None:
    assert (finding.code, finding.message) == (code, message)
