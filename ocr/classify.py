"""Which document OCR lines come from, by the titles and labels printed on it.

Each document the catalog asks for has its title and its labels, weighted by how much they give
the document away: a title or a label printed on that document only weighs most, a label many
documents share (姓名, 性别, 有效期限) very little. So a driving licence, which shares five
labels with an ID card, still wins on 机动车驾驶证, 准驾车型 and 初次领证日期. Labels are
matched longest first and a match hides the shorter labels inside it (出生日期 is not 出生,
申请准驾车型 is not 准驾车型). The best total wins if it reaches ``MIN_SCORE``; ties go to
the earlier document in ``DOCUMENTS``. Anything scoring lower is "other": a receipt, a
screenshot, a photo of a room.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Literal

__all__ = ["DOCUMENTS", "KIND_OF", "MIN_SCORE", "Kind", "classify", "identify"]

Kind = Literal["id_card_front", "id_card_back", "business_licence", "certificate", "form", "other"]

DOCUMENTS: Mapping[str, Mapping[str, float]] = {
    "id_card_front": {
        "公民身份号码": 3, "民族": 2, "住址": 1, "出生": 1, "性别": 0.5, "姓名": 0.5,
    },
    "id_card_back": {"居民身份证": 4, "签发机关": 2, "有效期限": 1.5},
    "business_licence": {
        "营业执照": 5, "统一社会信用代码": 3, "法定代表人": 2, "注册资本": 2, "成立日期": 2,
        "营业期限": 2, "经营范围": 2, "登记机关": 1, "住所": 1, "名称": 0.5, "类型": 0.5,
    },
    "driving_licence": {
        "机动车驾驶证": 5, "准驾车型": 3, "初次领证日期": 2, "国籍": 1.5, "出生日期": 1,
        "证号": 1, "有效期限": 0.5, "住址": 0.5, "姓名": 0.5, "性别": 0.5,
    },
    "driving_licence_page2": {
        "机动车驾驶证副页": 6, "副页": 3, "档案编号": 3, "记录": 1, "证号": 1, "姓名": 0.5,
    },
    "residence_permit": {
        "居住证": 5, "居住地址": 3, "公民身份号码": 1, "签发机关": 1, "有效期限": 0.5,
        "出生": 0.5, "姓名": 0.5, "性别": 0.5,
    },
    "qualification": {
        "资格证": 4, "操作证": 4, "许可证": 4, "合格证": 4, "优待证": 4, "持证人": 3,
        "有效期至": 2, "从业资格类别": 2, "作业类别": 2, "发证机关": 1, "初次领证日期": 1,
        "证号": 1, "姓名": 0.5,
    },
    "health_certificate": {
        "身体条件证明": 5, "申请准驾车型": 3, "身份证明名称": 3, "辨色力": 2, "视力": 1,
        "听力": 1, "身高": 1, "医疗机构": 1, "国籍": 0.5, "出生日期": 0.5,
    },
    "application_form": {
        "申请表": 4, "申请书": 4, "登记表": 4, "承诺书": 4, "委托书": 4, "申请人签字": 3,
        "申请人签名": 3, "填表日期": 1,
    },
}  # fmt: skip
# The catalog's kind of each document: what a checklist slot asks for.
KIND_OF: Mapping[str, Kind] = {
    "id_card_front": "id_card_front",
    "id_card_back": "id_card_back",
    "business_licence": "business_licence",
    "driving_licence": "certificate",
    "driving_licence_page2": "certificate",
    "residence_permit": "certificate",
    "qualification": "certificate",
    "health_certificate": "form",
    "application_form": "form",
    "other": "other",
}
MIN_SCORE = 3
_LABELS = sorted({label for labels in DOCUMENTS.values() for label in labels}, key=len)[::-1]


def _found(text: str) -> set[str]:
    """The labels in ``text``, longest first; each match hides the labels inside it."""
    found = set()
    for label in _LABELS:
        if label in text:
            found.add(label)
            text = text.replace(label, "\0")
    return found


def identify(lines: list[str]) -> str:
    """The document in ``DOCUMENTS`` whose labels score highest in ``lines``, or "other"."""
    # Spaces between CJK characters are OCR noise ("签 发 机 关"); NFKC folds full-width text.
    text = "".join(unicodedata.normalize("NFKC", line) for line in lines)
    found = _found(re.sub(r"\s+", "", text))
    best, best_score = "other", MIN_SCORE - 1e-9
    for document, labels in DOCUMENTS.items():
        score = sum(weight for label, weight in labels.items() if label in found)
        if score > best_score:
            best, best_score = document, score
    return best


def classify(lines: list[str]) -> Kind:
    """The catalog kind of the document ``lines`` come from, or "other"."""
    return KIND_OF[identify(lines)]
