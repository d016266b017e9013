"""Shared text handling for OCR fields: normalising lines and dates, and the (value, how) pair."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

Read = tuple[str | None, str]
EXACT, CORRECTED, UNREADABLE = "exact", "corrected", "unreadable"
NONE: Read = (None, UNREADABLE)

_DATE = re.compile(r"((?:19|20)\d{2})\s*[年.\-/]\s*(\d{1,2})\s*[月.\-/]\s*(\d{1,2})\s*日?")


def cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff"


def normalise_line(line: str) -> str:
    # NFKC folds full-width digits, letters and the colon "：" to ASCII; OCR puts spaces
    # between CJK characters ("姓 名"), which never carry meaning, so they are dropped.
    text = unicodedata.normalize("NFKC", line).strip()
    return re.sub(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])", "", text)


def compact(raw: str) -> str:
    return "".join(unicodedata.normalize("NFKC", raw).split())


def parse_date(text: str) -> date | None:
    match = _DATE.search(text)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
