"""Citizen IDs (GB 11643-1999), unified social credit codes (GB 32100-2015) and PIPL masking."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import ValidationFailed
from app.domain.identity import (
    CitizenId,
    citizen_id_check_char,
    is_valid_citizen_id,
    is_valid_uscc,
    mask_id_number,
    mask_phone,
    mask_sensitive,
    mask_uscc,
    number_kind,
    organization_code_check_char,
    parse_citizen_id,
    parse_uscc,
    uscc_check_char,
)

TODAY = date(2026, 3, 7)

# The two worked examples printed in GB 11643-1999 itself; hard-coded so that a wrong weight
# or check table cannot pass by agreeing with itself.
GB11643_SAMPLE_BEIJING_1949 = "11010519491231002X"
GB11643_SAMPLE_SHANTOU_1880 = "440524188001010014"


def _citizen_id(first17: str) -> str:
    return first17 + citizen_id_check_char(first17)


# --- GB 11643 citizen ID ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first17", "check"),
    [("11010519491231002", "X"), ("44052418800101001", "4"), ("11010119900307123", "3")],
)
def test_gb11643_check_char_matches_the_standards_worked_examples(first17: str, check: str) -> None:
    assert citizen_id_check_char(first17) == check


def test_gb11643_sample_parses_into_birth_date_sex_and_region() -> None:
    """GB 11643-1999 sample: a woman born 1949-12-31 in Chaoyang district, Beijing."""
    citizen = parse_citizen_id(GB11643_SAMPLE_BEIJING_1949, today=TODAY)
    assert citizen == CitizenId(
        number="11010519491231002X", birth_date=date(1949, 12, 31), sex="F", region_code="110105"
    )


def test_odd_sequence_digit_means_male_per_gb11643() -> None:
    assert parse_citizen_id(_citizen_id("11010119900307123"), today=TODAY).sex == "M"


def test_lowercase_x_spaces_and_full_width_digits_are_normalised() -> None:
    assert parse_citizen_id("110105 19491231 002x", today=TODAY).number == "11010519491231002X"
    assert parse_citizen_id("１１０１０５１９４９１２３１００２Ｘ", today=TODAY).number == (
        "11010519491231002X"
    )


def test_id_number_with_wrong_check_digit_is_rejected_per_gb11643() -> None:
    with pytest.raises(ValidationFailed, match="校验位不正确"):
        parse_citizen_id("110105194912310021", today=TODAY)


@pytest.mark.parametrize(
    "raw", ["", "11010519491231002", "11010519491231002XX", "1101051949123100A2", "110105491231002"]
)
def test_id_number_of_wrong_length_or_characters_is_rejected(raw: str) -> None:
    with pytest.raises(ValidationFailed, match="应为18位"):
        parse_citizen_id(raw, today=TODAY)


@pytest.mark.parametrize("first17", ["11010519490230002", "11010519491301002", "11010520270101002"])
def test_id_number_with_impossible_or_future_birth_date_is_rejected(first17: str) -> None:
    with pytest.raises(ValidationFailed, match="出生日期不正确"):
        parse_citizen_id(_citizen_id(first17), today=TODAY)


def test_gb11643_sample_born_1880_is_rejected_by_the_1900_floor() -> None:
    """GB 11643-1999 sample (1880): its check char is right, but nobody alive was born then."""
    assert citizen_id_check_char(GB11643_SAMPLE_SHANTOU_1880[:17]) == "4"
    with pytest.raises(ValidationFailed, match="出生日期不正确"):
        parse_citizen_id(GB11643_SAMPLE_SHANTOU_1880, today=TODAY)


def test_person_born_today_is_accepted() -> None:
    assert parse_citizen_id(_citizen_id("11010520260307002"), today=TODAY).birth_date == TODAY


@pytest.mark.parametrize("province", ["00", "10", "16", "24", "47", "55", "66", "72", "84", "99"])
def test_id_number_outside_gb2260_provinces_is_rejected(province: str) -> None:
    with pytest.raises(ValidationFailed, match="地区代码不正确"):
        parse_citizen_id(_citizen_id(province + "010519491231002"), today=TODAY)


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_hong_kong_macao_taiwan_residence_permit_numbers_are_accepted(prefix: str) -> None:
    """港澳台居民居住证申领发放办法 (2018): permits carry GB 11643 numbers prefixed 81/82/83."""
    assert is_valid_citizen_id(_citizen_id(prefix + "19900307123"), today=TODAY)


def test_citizen_id_repr_and_masked_property_hide_the_middle_per_pipl() -> None:
    citizen = parse_citizen_id(GB11643_SAMPLE_BEIJING_1949, today=TODAY)
    assert citizen.masked == "1101**********002X"
    assert "19491231" not in repr(citizen)


def test_is_valid_citizen_id_answers_without_raising() -> None:
    assert is_valid_citizen_id(GB11643_SAMPLE_BEIJING_1949, today=TODAY)
    assert not is_valid_citizen_id("not a number", today=TODAY)


def test_check_char_function_refuses_anything_but_17_digits() -> None:
    with pytest.raises(ValueError, match="17"):
        citizen_id_check_char("1101051949123100X")


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_any_17_digits_with_computed_check_char_pass_the_gb11643_checksum(first17: str) -> None:
    number = _citizen_id(first17)
    assert len(number) == 18
    assert citizen_id_check_char(number[:17]) == number[17]


@given(
    st.text(alphabet="0123456789", min_size=17, max_size=17),
    st.integers(min_value=0, max_value=16),
    st.integers(min_value=1, max_value=9),
)
def test_changing_any_one_digit_breaks_the_gb11643_checksum(
    first17: str, position: int, shift: int
) -> None:
    number = _citizen_id(first17)
    changed = str((int(first17[position]) + shift) % 10)
    tampered = first17[:position] + changed + first17[position + 1 :]
    assert citizen_id_check_char(tampered) != number[17]


# --- GB 32100 unified social credit code -----------------------------------------------------

# Published codes (the brief's Fujian example, a 事业单位 and a 个体工商户 cited as queryable on
# cods.org.cn in jaywcjlove/regexp-example#23, and well-known enterprises and a State Council
# organ); each independently passes both GB 32100 and GB 11714 check characters.
REAL_USCCS = [
    "91350100M000100Y43",
    "12440600MB2C07549J",
    "92141127MA0KD1Y64A",
    "914403001922038216",
    "9144030071526726XG",
    "91330100716105852F",
    "11100000000013127D",
]


@pytest.mark.parametrize("code", REAL_USCCS)
def test_published_unified_social_credit_codes_pass_gb32100_and_gb11714(code: str) -> None:
    assert uscc_check_char(code[:17]) == code[17]
    assert organization_code_check_char(code[8:16]) == code[16]
    assert is_valid_uscc(code)


def test_uscc_is_split_into_its_gb32100_parts() -> None:
    uscc = parse_uscc(" 91350100m000100y43 ")
    assert (uscc.code, uscc.registration_authority, uscc.org_type) == (
        "91350100M000100Y43",
        "9",
        "1",
    )
    assert (uscc.region_code, uscc.organization_code) == ("350100", "M000100Y4")
    assert uscc.masked == "9135**********0Y43"


def test_uscc_with_wrong_check_char_is_rejected_per_gb32100() -> None:
    with pytest.raises(ValidationFailed, match="校验位不正确"):
        parse_uscc("91350100M000100Y44")


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_uscc_containing_letters_gb32100_excludes_is_rejected(letter: str) -> None:
    with pytest.raises(ValidationFailed, match="不含I、O、Z、S、V"):
        parse_uscc("91350100M000100" + letter + "43")


def test_uscc_with_letters_in_the_region_code_is_rejected_per_gb32100() -> None:
    first17 = "9135A100M000100Y4"
    with pytest.raises(ValidationFailed, match="行政区划代码"):
        parse_uscc(first17 + uscc_check_char(first17))


def test_uscc_whose_organisation_code_fails_gb11714_is_rejected_even_with_good_outer_check() -> (
    None
):
    first17 = "91350100M000100Y5"
    with pytest.raises(ValidationFailed, match="组织机构代码"):
        parse_uscc(first17 + uscc_check_char(first17))


def test_gb11714_check_maps_remainder_10_to_x_and_11_to_zero() -> None:
    # Weighted sum 12 = 4 * 3 leaves 1, 11 - 1 = 10 -> "X"; sum 0 gives 11 -> "0".
    assert organization_code_check_char("00000030") == "X"
    assert organization_code_check_char("00000000") == "0"
    # A published code whose organisation code ends in X (71526726X).
    assert organization_code_check_char("71526726") == "X"


@given(
    st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=17),
    st.integers(min_value=0, max_value=16),
    st.integers(min_value=1, max_value=30),
)
def test_changing_any_one_character_breaks_the_gb32100_check(
    first17: str, position: int, shift: int
) -> None:
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    changed = charset[(charset.index(first17[position]) + shift) % 31]
    tampered = first17[:position] + changed + first17[position + 1 :]
    assert uscc_check_char(tampered) != uscc_check_char(first17)


# --- PIPL masking ----------------------------------------------------------------------------


def test_id_number_mask_keeps_first_and_last_four_per_pipl() -> None:
    assert mask_id_number("110101199003071234") == "1101**********1234"


def test_uscc_and_phone_masks_keep_their_agreed_ends() -> None:
    assert mask_uscc("91350100M000100Y43") == "9135**********0Y43"
    assert mask_phone("13812345678") == "138****5678"


def test_mask_of_a_short_value_stars_everything() -> None:
    assert mask_id_number("1234567") == "*******"


def test_id_numbers_in_chinese_text_are_masked_whether_valid_or_not() -> None:
    text = "申请人身份证号11010519491231002X，代办人110105194912310021。"
    assert mask_sensitive(text) == "申请人身份证号1101**********002X，代办人1101**********0021。"


def test_lowercase_x_id_number_in_text_is_masked() -> None:
    assert mask_sensitive("id=11010519491231002x") == "id=1101**********002x"


def test_checked_uscc_in_text_is_masked_and_an_unchecked_lookalike_is_kept() -> None:
    text = "企业代码 91350100M000100Y43 与 91350100M000100Y44"
    assert mask_sensitive(text) == "企业代码 9135**********0Y43 与 91350100M000100Y44"
    assert mask_sensitive("代码:91350100m000100y43") == "代码:9135**********0y43"


def test_mobile_numbers_are_masked_but_not_inside_longer_digit_runs() -> None:
    assert mask_sensitive("联系电话13812345678。") == "联系电话138****5678。"
    assert mask_sensitive("电话:+86 19912345678") == "电话:+86 199****5678"
    assert mask_sensitive("流水号1381234567890") == "流水号1381234567890"
    assert mask_sensitive("12812345678") == "12812345678"


def test_case_numbers_and_timestamps_are_not_masked() -> None:
    text = "案件BC20260307000123 于 2026-03-07T10:15:30 受理，时间戳1772849730123"
    assert mask_sensitive(text) == text


def test_eighteen_character_window_inside_a_longer_token_is_not_masked() -> None:
    token = "A91350100M000100Y43"
    assert mask_sensitive(token) == token
    assert mask_sensitive("1101051949123100201") == "1101051949123100201"


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        (GB11643_SAMPLE_BEIJING_1949, "citizen_id"),
        ("11010519491231002x", "citizen_id"),
        ("１１０１０５１９４９１２３１００２Ｘ", "citizen_id"),  # full-width, as typed in Chinese
        ("11010519491231002Y", "uscc"),  # not an ID's shape: parse_uscc says what is wrong
        ("914403001922038216", "uscc"),  # digits only, and a valid credit code
        ("914403001922038217", "citizen_id"),  # digits only, valid as neither: the ID's sentence
        ("91330100716105852F", "uscc"),
        ("9133 0100 7161 0585 2F", "uscc"),
        ("91330100716105852", None),
        ("9133010071610585IF", None),  # I is not in GB 32100's alphabet
        ("BC20261125123456", None),
    ],
)
def test_a_typed_number_is_told_apart_as_an_id_number_or_a_credit_code(
    typed: str, kind: str | None
) -> None:
    assert number_kind(typed) == kind
