"""Fields read from OCR text lines, with ID numbers and USCCs corrected only when unambiguous.

Every value comes back as ``(value, how)``: ``how`` is "exact" (read as printed),
"corrected" (an ID or USCC repaired by confusion substitutions, exactly one candidate valid)
or "unreadable" (value None). Nothing is ever guessed: a corrected number differs from the
OCR text only at positions whose character is listed in ``CONFUSIONS``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date

from ocr.correct import correct_citizen_id, correct_uscc
from ocr.text import EXACT, NONE, Read, normalise_line, parse_date

__all__ = [
    "extract_business_licence",
    "extract_certificate",
    "extract_id_back",
    "extract_id_front",
]

_FRONT_LABELS = ("姓名", "性别", "民族", "出生", "住址", "公民身份号码")
_ID_TOKEN = re.compile(r"[0-9A-Za-z|!×]{18}")
_USCC_TOKEN = re.compile(r"[0-9A-Za-z|!]{18}")


def _after(lines: Sequence[str], labels: Sequence[str]) -> tuple[int, str] | None:
    """The line index and the text after the first of ``labels`` found; the next line if empty."""
    for i, line in enumerate(lines):
        for label in labels:
            at = line.find(label)
            if at < 0:
                continue
            rest = line[at + len(label) :].lstrip(" :").strip()
            if rest:
                return i, rest
            if i + 1 < len(lines):
                return i + 1, lines[i + 1].lstrip(" :").strip()
            return None
    return None


def _until(text: str, labels: Sequence[str]) -> str:
    cut = min((at for label in labels if (at := text.find(label)) > 0), default=len(text))
    return text[:cut].strip(" :")


def _name(lines: Sequence[str], labels: Sequence[str], stops: Sequence[str]) -> Read:
    found = _after(lines, labels)
    if found is None:
        return NONE
    # A Chinese name is CJK characters, with "·" between the parts of a transliterated one.
    match = re.match(r"[\u3400-\u9fff·•]+", _until(found[1], stops))
    return (match[0].replace("•", "·"), EXACT) if match else NONE


def _date_read(text: str | None) -> Read:
    parsed = parse_date(text) if text else None
    return (parsed.isoformat(), EXACT) if parsed else NONE


def _date_or_permanent(text: str) -> Read:
    return ("长期", EXACT) if "长期" in text else _date_read(text)


def extract_id_front(lines: list[str], *, today: date | None = None) -> dict[str, Read]:
    """Name, sex, birth date, address and ID number from the portrait side of an ID card.

    ``mismatch`` is ("birth_date", "sex" or both, "mismatch") when the printed facts disagree
    with the ID number, (None, "consistent") when they agree, (None, "unchecked") otherwise.
    """
    text = [normalise_line(line) for line in lines]
    result: dict[str, Read] = {"name": _name(text, ["姓名"], _FRONT_LABELS[1:])}
    sex = _after(text, ["性别"])
    sex_match = re.match(r"\s*([男女])", sex[1]) if sex else None
    result["sex"] = (sex_match[1], EXACT) if sex_match else NONE
    birth = _after(text, ["出生"])
    result["birth_date"] = _date_read(birth[1] if birth else None)
    result["address"] = _address(text)
    context = {
        key: value
        for key, (value, _) in (("birth_date", result["birth_date"]), ("sex", result["sex"]))
        if value is not None
    }
    result["id_number"] = _id_number(text, context, today)
    result["mismatch"] = _mismatch(result)
    return result


def _address(text: Sequence[str]) -> Read:
    found = _after(text, ["住址"])
    if found is None:
        return NONE
    start, first = found
    parts = [_until(first, ["公民身份号码"])]
    # The address wraps over up to three lines; it ends at the ID number or another label.
    for line in text[start + 1 : start + 3]:
        if any(label in line for label in _FRONT_LABELS) or _ID_TOKEN.search(line.replace(" ", "")):
            break
        parts.append(line)
    address = "".join("".join(parts).split())
    return (address, EXACT) if address else NONE


def _id_number(text: Sequence[str], context: Mapping[str, str], today: date | None) -> Read:
    found = _after(text, ["公民身份号码"])
    tokens = [found[1]] if found else []
    tokens += [m[0] for line in text for m in _ID_TOKEN.finditer(line.replace(" ", ""))]
    for token in tokens:
        read = correct_citizen_id(token, context, today=today)
        if read[0] is not None:
            return read
    return NONE


def _mismatch(result: Mapping[str, Read]) -> Read:
    number, _ = result["id_number"]
    printed_birth, _ = result["birth_date"]
    printed_sex, _ = result["sex"]
    if number is None or (printed_birth is None and printed_sex is None):
        return (None, "unchecked")
    wrong = []
    encoded_birth = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    if printed_birth is not None and printed_birth != encoded_birth:
        wrong.append("birth_date")
    if printed_sex is not None and printed_sex != ("男" if int(number[16]) % 2 else "女"):
        wrong.append("sex")
    return (",".join(wrong), "mismatch") if wrong else (None, "consistent")


def extract_id_back(lines: list[str]) -> dict[str, Read]:
    """Issuing authority and validity period from the national-emblem side of an ID card."""
    text = [normalise_line(line) for line in lines]
    issuer = _after(text, ["签发机关"])
    issuer_value = _until(issuer[1], ["有效期限"]) if issuer else ""
    result: dict[str, Read] = {"issuer": (issuer_value, EXACT) if issuer_value else NONE}
    validity = _after(text, ["有效期限"])
    parts = re.split(r"\s*[-—–~至]\s*(?=\d{4}|长期)", validity[1], maxsplit=1) if validity else []
    result["valid_from"] = _date_read(parts[0]) if parts else NONE
    result["valid_to"] = _date_or_permanent(parts[1]) if len(parts) == 2 else NONE
    return result


def extract_business_licence(
    lines: list[str], context: Mapping[str, str] | None = None
) -> dict[str, Read]:
    """USCC, company name, legal representative and term end from a business licence."""
    text = [normalise_line(line) for line in lines]
    found = _after(text, ["统一社会信用代码"])
    tokens = [found[1]] if found else []
    tokens += [m[0] for line in text for m in _USCC_TOKEN.finditer(line.replace(" ", ""))]
    uscc = NONE
    for token in tokens:
        uscc = correct_uscc(token, context or {})
        if uscc[0] is not None:
            break
    name = _after(text, ["名称"])
    company = _until(name[1], ["类型", "住所"]) if name else ""
    term = _after(text, ["营业期限"])
    if term and "至" in term[1]:
        valid_to = _date_or_permanent(term[1].split("至", 1)[1])
    else:
        valid_to = ("长期", EXACT) if term and "长期" in term[1] else NONE
    return {
        "uscc": uscc,
        "company_name": (company, EXACT) if company else NONE,
        "legal_representative": _name(
            text, ["法定代表人", "负责人", "经营者", "执行事务合伙人"], ["类型", "住所", "注册"]
        ),
        "valid_to": valid_to,
    }


def extract_certificate(lines: list[str]) -> dict[str, Read]:
    """Certificate number, holder name and expiry date from a qualification or permit."""
    text = [normalise_line(line) for line in lines]
    number = _after(text, ["证书编号", "证号", "编号"])
    match = re.match(r"[0-9A-Za-z\-]+", number[1].replace(" ", "")) if number else None
    expiry = _after(text, ["有效期至", "有效期限至"])
    if expiry is None:
        period = _after(text, ["有效期"])
        expiry = (period[0], period[1].split("至", 1)[1]) if period and "至" in period[1] else None
    return {
        "certificate_number": (match[0].upper(), EXACT) if match else NONE,
        "holder_name": _name(text, ["持证人", "姓名"], ["性别", "证号", "编号", "身份证"]),
        "expiry_date": _date_or_permanent(expiry[1]) if expiry else NONE,
    }
