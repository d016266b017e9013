"""Which kind of document OCR lines come from, by weighted keyword scoring.

Each kind has the labels printed on it, weighted by how much they give the kind away: a label
printed on that kind only weighs 3, a label shared with other kinds weighs 1 or 2. The kind
with the highest total wins if it reaches ``MIN_SCORE``; ties go to the earlier kind in
``KEYWORDS`` (an ID card before a certificate). Anything scoring lower is "other": a receipt,
a screenshot, a photo of a room.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Literal

__all__ = ["KEYWORDS", "MIN_SCORE", "Kind", "classify"]

Kind = Literal["id_card_front", "id_card_back", "business_licence", "certificate", "form", "other"]

KEYWORDS: Mapping[Kind, Mapping[str, int]] = {
    "id_card_front": {"公民身份号码": 3, "住址": 2, "出生": 1, "民族": 1, "性别": 1},
    "id_card_back": {"签发机关": 3, "有效期限": 2, "居民身份证": 2},
    "business_licence": {"营业执照": 3, "统一社会信用代码": 3, "法定代表人": 2, "注册资本": 1},
    "certificate": {"证号": 2, "资格证": 3, "许可证": 3, "有效期至": 2, "发证机关": 1},
    "form": {"申请表": 3, "申请人签字": 3, "申请人签名": 3, "填表日期": 1},
}
MIN_SCORE = 3


def classify(lines: list[str]) -> Kind:
    """Return the kind of document whose labels score highest in ``lines``, or "other"."""
    # Spaces between CJK characters are OCR noise ("签 发 机 关"); NFKC folds full-width text.
    text = "".join(unicodedata.normalize("NFKC", line) for line in lines)
    text = re.sub(r"\s+", "", text)
    best: Kind = "other"
    best_score = MIN_SCORE - 1
    for kind, keywords in KEYWORDS.items():
        score = sum(weight for word, weight in keywords.items() if word in text)
        if score > best_score:
            best, best_score = kind, score
    return best
