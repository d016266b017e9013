"""Which kind of document OCR lines come from, told by the labels printed on it."""

from __future__ import annotations

import pytest

from ocr.classify import classify

ID_FRONT = [
    "姓 名 王小红",
    "性别 女 民族 汉",
    "出生 1949年12月31日",
    "住址 北京市西城区",
    "公民身份号码 11010519491231002X",
]
ID_BACK = [
    "中华人民共和国",
    "居 民 身 份 证",
    "签发机关 北京市公安局",
    "有效期限 2015.03.01-2035.03.01",
]
LICENCE = [
    "营 业 执 照",
    "统一社会信用代码 91350100M000100Y43",
    "名称 福州示例科技有限公司",
    "法定代表人 林一鸣",
]
CERTIFICATE = ["食品经营许可证", "证号：JY13501000012345", "持证人：李四", "有效期至 2028年6月30日"]
FORM = ["营业执照变更登记申请表", "申请人签字：", "日期："]
RECEIPT = ["永辉超市 购物小票", "收银员：007", "苹果 2.5kg 19.90", "合计 ￥19.90", "谢谢惠顾"]


@pytest.mark.parametrize(
    ("lines", "kind"),
    [
        (ID_FRONT, "id_card_front"),
        (ID_BACK, "id_card_back"),
        (LICENCE, "business_licence"),
        (CERTIFICATE, "certificate"),
        (FORM, "form"),
    ],
)
def test_each_kind_of_document_is_told_by_its_labels(lines: list[str], kind: str) -> None:
    assert classify(lines) == kind


def test_a_shopping_receipt_is_other() -> None:
    assert classify(RECEIPT) == "other"


def test_no_text_at_all_is_other() -> None:
    assert classify([]) == "other"


def test_one_weak_label_alone_is_not_enough() -> None:
    assert classify(["出生地：福州"]) == "other"


def test_full_width_and_spaced_labels_still_count() -> None:
    assert classify(["签　发　机　关：福州市公安局", "有 效 期 限：长期"]) == "id_card_back"
