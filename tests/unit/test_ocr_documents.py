"""Real label sets: each catalog document is told by its own labels and read from its own rows.

The lines are rows as ``ocr.layout.rows`` gives them (a tab between the boxes of one row),
taken from RapidOCR's reading of the corpus photos (``ocr/corpus``), glosses and all.
"""

from __future__ import annotations

from datetime import date

import pytest

from ocr.classify import classify, identify
from ocr.fields import extract_business_licence, extract_certificate
from ocr.quality import GLARE, OVEREXPOSED
from ocr.rules import FIX, PASS, Expectation, judge
from ocr.text import EXACT, NONE

TODAY = date(2026, 11, 25)
DRIVER = "110105198001010032"

DRIVING_LICENCE = [
    "中华人民共和国机动车驾驶证",
    "Driving License of the People's Republic of China",
    f"证号\t{DRIVER}",
    "No.",
    "姓名\t李四\t性别\t男\t国籍\t中国",
    "Name\tSex\tNationality",
    "住址\t北京市朝阳区建国路88号院3号楼1201",
    "Address",
    "出生日期\t1980-01-01",
    "Date of Birth",
    "初次领证日期\t2008-05-20",
    "Issue Date",
    "准驾车型\tC1",
    "Class",
    "有效期限\t2020-05-20 至 2030-05-20",
    "Valid Period",
]
# The same licence, its title and the labels only it prints lost to glare: what is left is
# mostly what an ID card prints too.
DRIVING_LICENCE_WORN = [
    f"证号\t{DRIVER}",
    "姓名\t李四\t性别\t男\t国籍\t中国",
    "住址\t北京市朝阳区建国路88号院3号楼1201",
    "出生日期\t1980-01-01",
    "准驾车型\tC1",
    "有效期限\t2020-05-20 至 2030-05-20",
]
DRIVING_LICENCE_PAGE2 = [
    "中华人民共和国机动车驾驶证副页",
    f"证号\t{DRIVER}",
    "姓名\t李四",
    "档案编号\t110100123456",
    "记录",
]
LICENCE_PORTRAIT = [
    "营业执照",
    "（副本）",
    "统一社会信用代码",
    "91350100M000100Y43",
    "名\t称\t福州示例科技有限公司",
    "类\t型\t有限责任公司（自然人投资或控股）",
    "法定代表人\t林一鸣",
    "注册资本\t人民币壹佰万元整",
    "成立日期\t2010年01月01日",
    "营业期限\t2010年01月01日至长期",
    "住\t所\t福建省福州市鼓楼区中山路1号",
    "经营范围\t软件开发；计算机系统服务。",
    "登记机关",
]
HEALTH_CERTIFICATE = [
    "机动车驾驶人身体条件证明",
    "姓名\t李四\t性别\t男",
    "出生日期\t1980年01月01日\t国籍\t中国",
    f"身份证明名称\t居民身份证\t号码\t{DRIVER}",
    "住址\t北京市朝阳区建国路88号",
    "申请准驾车型\tC1\t身高\t172cm",
    "辨色力\t正常\t听力\t正常",
]
RESIDENCE_PERMIT = [
    "上海市居住证",
    "姓名\t李四",
    "性别\t男",
    "出生\t1980年01月01日",
    f"公民身份号码\t{DRIVER}",
    "居住地址\t上海市徐汇区中山路1号",
    "签发机关\t上海市公安局徐汇分局",
    "有效期限\t2024.01.01-2027.01.01",
]
ID_FRONT = [
    "姓名\t李四",
    "性别\t男\t民族\t汉",
    "出生\t1980\t年\t1\t月\t1\t日",
    "住址\t北京市朝阳区建国路88号",
    f"公民身份号码\t{DRIVER}",
]


@pytest.mark.parametrize(
    ("lines", "document", "kind"),
    [
        (DRIVING_LICENCE, "driving_licence", "certificate"),
        (DRIVING_LICENCE_WORN, "driving_licence", "certificate"),
        (DRIVING_LICENCE_PAGE2, "driving_licence_page2", "certificate"),
        (LICENCE_PORTRAIT, "business_licence", "business_licence"),
        (HEALTH_CERTIFICATE, "health_certificate", "form"),
        (RESIDENCE_PERMIT, "residence_permit", "certificate"),
        (ID_FRONT, "id_card_front", "id_card_front"),
    ],
    ids=["driving", "driving-worn", "driving-page2", "licence-portrait", "health", "permit", "id"],
)
def test_each_catalog_document_is_told_by_its_distinctive_labels(
    lines: list[str], document: str, kind: str
) -> None:
    assert identify(lines) == document
    assert classify(lines) == kind


def test_a_driving_licence_sent_for_its_slot_is_not_called_the_wrong_document() -> None:
    slot = Expectation("certificate", TODAY, person_id=DRIVER, holder_name="李四")
    read = extract_certificate(DRIVING_LICENCE)
    verdict = judge(slot, [], classify(DRIVING_LICENCE), read, document="driving_licence")
    assert verdict.status == PASS, verdict.findings
    assert verdict.fields == {
        "certificate_number": DRIVER,
        "holder_name": "李四",
        "expiry_date": "2030-05-20",
    }


def test_the_supplementary_page_passes_without_a_validity_it_does_not_print() -> None:
    slot = Expectation("certificate", TODAY, person_id=DRIVER, must_be_valid=False)
    read = extract_certificate(DRIVING_LICENCE_PAGE2)
    verdict = judge(slot, [], "certificate", read, document="driving_licence_page2")
    assert verdict.status == PASS, verdict.findings


def test_a_driving_licence_of_someone_else_is_caught_by_its_number() -> None:
    slot = Expectation("certificate", TODAY, person_id="11010519491231002X", holder_name="李四")
    verdict = judge(slot, [], "certificate", extract_certificate(DRIVING_LICENCE))
    assert verdict.status == FIX
    assert [f.code for f in verdict.findings] == ["NOT_APPLICANT"]


def test_the_company_name_is_read_from_the_name_row_of_a_portrait_licence() -> None:
    fields = extract_business_licence(LICENCE_PORTRAIT)
    assert fields["company_name"] == ("福州示例科技有限公司", EXACT)
    assert fields["legal_representative"] == ("林一鸣", EXACT)


def test_a_company_name_whose_row_was_not_read_stays_unread_never_the_type() -> None:
    # The name's box was lost; the row below is the company type's.
    lost = ["营业执照", "名\t称", "有限责任公司（自然人投资或控股）", "法定代表人\t林一鸣"]
    assert extract_business_licence(lost)["company_name"] == NONE
    # The 类型 label was lost and its value slid up beside 名称.
    slid = ["营业执照", "名称\t有限责任公司（自然人独资）", "法定代表人\t林一鸣"]
    assert extract_business_licence(slid)["company_name"] == NONE


def test_a_gloss_beside_the_number_label_is_never_the_number() -> None:
    lines = ["中华人民共和国机动车驾驶证", "证号\tNo.", "姓名\tName\t李四"]
    fields = extract_certificate(lines)
    assert fields["certificate_number"] == NONE
    assert fields["holder_name"] == ("李四", EXACT)


def test_a_misread_id_number_on_a_certificate_is_unread_not_wrong() -> None:
    wrong = DRIVER[:-1] + ("1" if DRIVER[-1] != "1" else "2")  # fails the check character
    assert extract_certificate([f"证号\t{wrong}"])["certificate_number"] == NONE


def test_glare_or_brightness_is_not_told_when_every_key_field_was_read() -> None:
    slot = Expectation("certificate", TODAY, person_id=DRIVER)
    read = extract_certificate(DRIVING_LICENCE)
    assert judge(slot, [GLARE, OVEREXPOSED], "certificate", read).status == PASS
    unread = {**read, "expiry_date": NONE}
    assert [f.code for f in judge(slot, [GLARE], "certificate", unread).findings] == ["GLARE"]
