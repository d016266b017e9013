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


# --- rows of engine boxes (ocr.layout.rows puts a tab between the boxes of one row) -----------
# Each case below is a row RapidOCR produced on the synthetic corpus.


def test_a_name_ends_with_its_box_not_at_the_next_column_of_the_row() -> None:
    lines = [
        "统一社会信用代码",
        "91350100M000100Y43",
        "名称福州瑞丰建筑工程有限公司\t注册资本人民币贰佰万元整",
        "类型其他有限责任公司\t成立日期2021年10月12日",
        "法定代表人方桂勇\t营业期限2021年10月12日至2041年10月11日",
    ]
    fields = extract_business_licence(lines)
    assert fields["company_name"] == ("福州瑞丰建筑工程有限公司", "exact")
    assert fields["legal_representative"] == ("方桂勇", "exact")
    assert fields["valid_to"] == ("2041-10-11", "exact")


def test_a_name_stops_at_a_box_of_the_other_column_whose_label_lost_a_character() -> None:
    # Tilted: 住 of 住所 fell onto the next row; the address still shares the name's row.
    lines = ["法定代表人田宇涛\t所广东省深圳市南山区建国路31号18栋4", "住"]
    assert extract_business_licence(lines)["legal_representative"] == ("田宇涛", "exact")


def test_a_spread_label_is_found_across_its_boxes_and_a_stray_mark_in_its_gap() -> None:
    lines = [
        "名\t東称北京汇达建筑工程有限公司\t注册资本人民币伍佰万元整",
        "类麗\t型其他有限责任公司",
    ]
    assert extract_business_licence(lines)["company_name"] == ("北京汇达建筑工程有限公司", "exact")


def test_a_two_character_label_that_lost_a_character_still_opens_its_row() -> None:
    licence = ["称成都博远网络科技有限公司\t注册资本人民币贰佰万元整"]
    assert extract_business_licence(licence)["company_name"] == (
        "成都博远网络科技有限公司",
        "exact",
    )
    certificate = ["姓\t名石宇雨", "性\t别女", "证\tT440305198501279764"]
    assert extract_certificate(certificate)["certificate_number"] == (
        "T440305198501279764",
        "exact",
    )


def test_a_number_is_looked_for_box_by_box_not_glued_to_letters_of_the_box_before() -> None:
    # Tesseract on a tilted licence: a box of background noise shares the code's row.
    lines = ["统一社会信用代码", "|||业Th k MY\t91110105MAYUCJWJ25"]
    assert extract_business_licence(lines)["uscc"] == ("91110105MAYUCJWJ25", "exact")
    front = ["公民身份号码", "Th k MY\t11010519491231002X"]
    assert extract_id_front(front)["id_number"] == (ID, "exact")


def test_a_longer_label_is_never_taken_from_a_part_of_it() -> None:
    # "有效期" opens the row, but the label looked for is "有效期至": the period's end counts.
    lines = ["有效期\t2020.01.01-2026.01.01"]
    assert extract_certificate(lines)["expiry_date"] == ("2026-01-01", "exact")


def test_a_certificate_with_labels_spread_over_their_column() -> None:
    lines = [
        "中华人民共和国",
        "道路运输从业人员从业资格证",
        "姓莊\t名刘明芬",
        "性\t邮品",
        "证\t号\t440305197704238634",
        "有效期至\t2030年06月14日",
        "发证\u3000机\u3000关深圳市交通运输局",
    ]
    assert extract_certificate(lines) == {
        "certificate_number": ("440305197704238634", "exact"),
        "holder_name": ("刘明芬", "exact"),
        "expiry_date": ("2030-06-14", "exact"),
    }


def test_a_value_of_one_character_left_in_the_label_box_is_a_stray_mark() -> None:
    fields = extract_id_back(["签发机关武\t武汉市公安局武昌分局", "有效期限2024.04.07-2034.04.07"])
    assert fields["issuer"] == ("武汉市公安局武昌分局", "exact")
    front = extract_id_front(["姓名\t熊静", "性别男\t民族汉"])
    assert front["sex"] == ("男", "exact")


def test_a_rule_or_quote_read_before_a_value_is_not_part_of_it() -> None:
    assert extract_id_front(["姓名—顾欣玲"])["name"] == ("顾欣玲", "exact")
    # Tesseract reads the paper's texture beside a label as quotes and stops.
    front = extract_id_front(["姓名。”林明晨", "住址”浙江省杭州市西湖区学院路16号院", "5号楼2106"])
    assert front["name"] == ("林明晨", "exact")
    assert front["address"] == ("浙江省杭州市西湖区学院路16号院5号楼2106", "exact")
    assert extract_business_licence(["法定代表人一梁伟娜"])["legal_representative"] == (
        "梁伟娜",
        "exact",
    )


def test_a_transliterated_name_keeps_one_middle_dot() -> None:
    assert extract_id_front(["姓名\t阿依古丽・买买提"])["name"] == ("阿依古丽·买买提", "exact")


def test_a_rule_read_before_a_period_is_not_taken_for_its_dash() -> None:
    # Tesseract on a tilted ID card back: a quote before the issuer, a dash before the period.
    fields = extract_id_back(["签发机关”武汉市公安局武昌分局", "有效期限—2018.08.08-2028.08.08"])
    assert fields == {
        "issuer": ("武汉市公安局武昌分局", "exact"),
        "valid_from": ("2018-08-08", "exact"),
        "valid_to": ("2028-08-08", "exact"),
    }


def test_a_label_whose_value_was_not_read_does_not_take_the_next_label() -> None:
    fields = extract_id_front(["姓名", "性别女\t民族汉"])
    assert fields["name"] == (None, "unreadable")
    assert fields["sex"] == ("女", "exact")


def test_a_birth_date_boxed_piece_by_piece_is_read_from_the_whole_row() -> None:
    lines = [
        "出生\t1978\t年\t3\t月\t18\t日",
        "住址\t湖北省武汉市武昌区中山路144号8",
        "栋3单元402室",
    ]
    fields = extract_id_front(lines)
    assert fields["birth_date"] == ("1978-03-18", "exact")
    assert fields["address"] == ("湖北省武汉市武昌区中山路144号8栋3单元402室", "exact")


@pytest.mark.parametrize(
    ("printed", "iso"),
    [
        ("二〇一八年五月三十日", "2018-05-30"),
        ("二○二○年十二月十一日", "2020-12-11"),
        ("二零零八年一月一日", "2008-01-01"),
        ("二〇一九年二月三十日", None),
    ],
)
def test_an_expiry_in_chinese_numerals_is_read(printed: str, iso: str | None) -> None:
    expected = (iso, "exact") if iso else (None, "unreadable")
    assert extract_certificate([f"有效期至 {printed}"])["expiry_date"] == expected


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
