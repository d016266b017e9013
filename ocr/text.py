"""Shared text handling for OCR fields: normalising lines and dates, and the (value, how) pair."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

Read = tuple[str | None, str]
EXACT, CORRECTED, UNREADABLE = "exact", "corrected", "unreadable"
NONE: Read = (None, UNREADABLE)

_DATE = re.compile(r"((?:19|20)\d{2})\s*[年.\-/]\s*(\d{1,2})\s*[月.\-/]\s*(\d{1,2})\s*日?")
# Seals and older certificates write dates in Chinese numerals: 二〇一八年五月三十日.
_CN_DIGITS = {char: i for i, char in enumerate("〇一二三四五六七八九")} | {"○": 0, "零": 0}
_CN_DATE = re.compile(
    r"([〇○零一二三四五六七八九]{4})\s*年\s*([一二三四五六七八九十]{1,3})\s*月"
    r"\s*([一二三四五六七八九十]{1,3})\s*日"
)


def cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff"


def normalise_line(line: str) -> str:
    # NFKC folds full-width digits, letters and the colon "：" to ASCII; OCR puts spaces
    # between CJK characters ("姓 名"), which never carry meaning, so they are dropped. A tab
    # parts the boxes of one row (ocr.layout.rows) and is kept, as one tab.
    text = unicodedata.normalize("NFKC", line).strip()
    text = re.sub(r"[^\S\t]*\t\s*", "\t", text)
    return re.sub(r"(?<=[\u3400-\u9fff])[^\S\t]+(?=[\u3400-\u9fff])", "", text)


def compact(raw: str) -> str:
    return "".join(unicodedata.normalize("NFKC", raw).split())


def _cn_number(text: str) -> int:
    """一 to 三十一 as an integer: 十 is ten, a digit before it counts the tens."""
    if "十" not in text:
        return _CN_DIGITS[text] if len(text) == 1 else -1
    tens, _, units = text.partition("十")
    if any(part and part not in _CN_DIGITS for part in (tens, units)):
        return -1
    return _CN_DIGITS.get(tens, 1) * 10 + _CN_DIGITS.get(units, 0)


def parse_date(text: str) -> date | None:
    """The first date in ``text``, in Arabic digits (2020年1月1日, 2020.01.01) or in Chinese."""
    if match := _DATE.search(text):
        numbers = (int(match[1]), int(match[2]), int(match[3]))
    elif match := _CN_DATE.search(text):
        year = int("".join(str(_CN_DIGITS[char]) for char in match[1]))
        numbers = (year, _cn_number(match[2]), _cn_number(match[3]))
    else:
        return None
    try:
        return date(*numbers)
    except ValueError:
        return None
