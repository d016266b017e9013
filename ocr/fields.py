"""Fields read from OCR text rows, with ID numbers and USCCs corrected only when unambiguous.

Give the extractors ``ocr.layout.rows(engine_lines)``: a tab parts the boxes of one row, so a
value can end with its box. Lines without tabs (typed in a test, say) are read as well.

Every value comes back as ``(value, how)``: ``how`` is "exact" (read as printed),
"corrected" (an ID or USCC repaired by confusion substitutions, exactly one candidate valid)
or "unreadable" (value None). Nothing is ever guessed: a corrected number differs from the
OCR text only at positions whose character is listed in ``CONFUSIONS``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache

from ocr.correct import correct_citizen_id, correct_uscc
from ocr.text import EXACT, NONE, Read, compact, normalise_line, parse_date

__all__ = [
    "extract_business_licence",
    "extract_certificate",
    "extract_id_back",
    "extract_id_front",
]

_FRONT_LABELS = ("姓名", "性别", "民族", "出生", "住址", "公民身份号码")
# Every label of a business licence, old and new styles: a row may hold a value of the left
# column and the label of the right one ("法定代表人张三 营业期限…"), so a value ends at any.
_LICENCE_LABELS = (
    "统一社会信用代码", "注册号", "名称", "类型", "组成形式",
    "法定代表人", "负责人", "经营者", "执行事务合伙人", "投资人",
    "经营范围", "注册资本", "出资额", "出资总额", "成立日期", "注册日期",
    "营业期限", "合伙期限", "住所", "主要经营场所", "经营场所", "营业场所", "登记机关",
)  # fmt: skip
_CERTIFICATE_LABELS = (
    "姓名", "持证人", "性别", "出生日期", "国籍", "民族", "身份证号", "证件号码", "证号",
    "编号", "类别", "准驾车型", "初次领证日期", "有效期", "发证机关", "发证日期", "住址",
)  # fmt: skip
_ID_TOKEN = re.compile(r"[0-9A-Za-z|!×]{18}")
_USCC_TOKEN = re.compile(r"[0-9A-Za-z|!]{18}")


@lru_cache(maxsize=256)
def _label(label: str) -> re.Pattern[str]:
    # A label spread across its column ("名　　称") comes as one box per character, and the
    # detector may read a stray mark beside the gap as one more character: "名\t東称…".
    return re.compile(r"(?:[^\t]?\t[^\t]?)?".join(map(re.escape, label)))


@lru_cache(maxsize=256)
def _partial_label(label: str) -> re.Pattern[str] | None:
    # The detector may miss a lone character of a two-character label spread over its column
    # ("称福州…", "证\tT3501…"); the one left must then open the row. Longer labels are
    # never guessed from a part: "有效期" is not "有效期至".
    if len(label) != 2:
        return None
    return re.compile(f"^[{re.escape(label)}]")


def _find(rows: Sequence[str], labels: Sequence[str]) -> tuple[int, str] | None:
    """The index of the first row holding one of ``labels``, and its text after the label.

    Only when no row holds any of them whole, a row opening with part of one.
    """
    for pattern in (_label, _partial_label):
        for i, row in enumerate(rows):
            for label in labels:
                if (regex := pattern(label)) and (match := regex.search(row)):
                    return i, row[match.end() :]
    return None


# An English gloss printed under or beside a label ("Name", "Date of Birth", "No."), as on a
# driving licence: never a value.
_GLOSS = re.compile(r"[A-Za-z][A-Za-z .,'’/]*")


def _cells(text: str) -> list[str]:
    cells = [cell for raw in text.split("\t") if (cell := raw.strip(" :"))]
    return [cell for cell in cells if not _GLOSS.fullmatch(cell)]


def _cell_after(
    rows: Sequence[str], labels: Sequence[str], *, shortest: int = 2, next_row: bool = True
) -> str:
    """The value in the label's box after it, else the next box on its row, else the next row.

    A name or an authority is printed as one run of text, so its box ends the value: what
    follows on the row belongs to the next column. Less than ``shortest`` characters left in
    the label's box, with a box after it, is a stray mark read at the box's edge. Names are
    read with ``next_row=False``: a name is printed beside its label, and the row below holds
    another field's value (the company type under the company name), never the name.
    """
    found = _find(rows, labels)
    if found is None:
        return ""
    i, rest = found
    cells = _cells(rest) or (_cells(rows[i + 1]) if next_row and i + 1 < len(rows) else [])
    if len(cells) > 1 and len(cells[0]) < shortest:
        return cells[1]
    return cells[0] if cells else ""


def _row_after(rows: Sequence[str], labels: Sequence[str]) -> tuple[int, str] | None:
    """The row index and the rest of the row after the label (the next row if nothing is left).

    A date or an address may be set in several boxes ("1978" "年" "3" "月"), so the whole row
    is the value; callers cut it at the next label.
    """
    found = _find(rows, labels)
    if found is None:
        return None
    i, rest = found
    if _cells(rest):
        return i, " ".join(_cells(rest))
    if i + 1 < len(rows):
        return i + 1, " ".join(_cells(rows[i + 1]))
    return None


def _tokens(pattern: re.Pattern[str], rows: Sequence[str]) -> list[str]:
    """Every 18-character run of ``pattern`` in each box of ``rows``, spaces removed.

    Box by box: letters of a neighbouring box glued to a number would shift the run.
    """
    return [
        m[0] for row in rows for cell in row.split("\t") for m in pattern.finditer(compact(cell))
    ]


def _trim(value: str) -> str:
    """``value`` without the quotes, bars and rules OCR reads from the background at its ends."""
    return value.strip(" :\t|\"'“”‘’`—–-_~.,，。《》")


def _until(text: str, labels: Sequence[str]) -> str:
    """``text`` up to the first of ``labels`` in it (the next field on the row)."""
    cut = min((m.start() for label in labels if (m := _label(label).search(text))), default=None)
    return text[:cut].strip(" :\t")


# A Chinese name is CJK characters, with a middle dot between the parts of a transliterated
# one (OCR reads it as "·", "•", "・" or "."). No surname is 一: a leading 一 or dash is a
# stroke of the background between the label and the value.
_NAME = re.compile(r"[一—–\-_~]?([\u3400-\u9fff]+(?:[·•・.][\u3400-\u9fff]+)*)")


def _name(rows: Sequence[str], labels: Sequence[str], stops: Sequence[str]) -> Read:
    cell = _cell_after(rows, labels, next_row=False)
    # A gloss glued to the label's box: "Name王小红".
    cell = re.sub(r"^[A-Za-z][A-Za-z .,'’/]*(?=[\u3400-\u9fff])", "", cell)
    match = _NAME.match(_trim(_until(cell, stops)))
    if match is None or len(match[1]) < 2:
        return NONE
    return re.sub(r"[•・.]", "·", match[1]), EXACT


def _date_read(text: str | None) -> Read:
    parsed = parse_date(text) if text else None
    return (parsed.isoformat(), EXACT) if parsed else NONE


def _date_or_permanent(text: str) -> Read:
    return ("长期", EXACT) if "长期" in text else _date_read(text)


# "2015.03.01-2035.03.01", "2010年01月01日至长期", "2020.01.01 — 2026.01.01": a dash or 至
# between the end of a date and a year or 长期 parts the two ends (a dash inside a date is
# followed by a month; a rule read before the first date follows no date).
_PERIOD = re.compile(r"(?<=[\d日])\s*[-—–~至]\s*(?=\d{4}|长期)")


def _period(text: str) -> tuple[Read, Read]:
    """The start and the end of a validity period; the end may be 长期 (no end)."""
    parts = _PERIOD.split(text, maxsplit=1)
    if len(parts) == 2:
        return _date_read(parts[0]), _date_or_permanent(parts[1])
    return _date_read(text), (("长期", EXACT) if "长期" in text else NONE)


def extract_id_front(lines: list[str], *, today: date | None = None) -> dict[str, Read]:
    """Name, sex, birth date, address and ID number from the portrait side of an ID card.

    ``mismatch`` is ("birth_date", "sex" or both, "mismatch") when the printed facts disagree
    with the ID number, (None, "consistent") when they agree, (None, "unchecked") otherwise.
    """
    text = [normalise_line(line) for line in lines]
    result: dict[str, Read] = {"name": _name(text, ["姓名"], _FRONT_LABELS[1:])}
    sex = re.match(r"[男女]", _cell_after(text, ["性别"], shortest=1))
    result["sex"] = (sex[0], EXACT) if sex else NONE
    birth = _row_after(text, ["出生"])
    result["birth_date"] = _date_read(_until(birth[1], _FRONT_LABELS) if birth else None)
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
    found = _row_after(text, ["住址"])
    if found is None:
        return NONE
    start, first = found
    parts = [_trim(_until(first, _FRONT_LABELS))]
    # The address wraps over up to three lines; it ends at the ID number or another label.
    for line in text[start + 1 : start + 3]:
        if any(_label(label).search(line) for label in _FRONT_LABELS) or _ID_TOKEN.search(
            compact(line)
        ):
            break
        parts.append(line)
    address = compact("".join(parts))
    return (address, EXACT) if address else NONE


def _id_number(text: Sequence[str], context: Mapping[str, str], today: date | None) -> Read:
    found = _row_after(text, ["公民身份号码"])
    tokens = [found[1]] if found else []
    tokens += _tokens(_ID_TOKEN, text)
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
    issuer = _trim(_until(_cell_after(text, ["签发机关"]), ["有效期限"]))
    result: dict[str, Read] = {"issuer": (issuer, EXACT) if issuer else NONE}
    validity = _row_after(text, ["有效期限"])
    result["valid_from"], result["valid_to"] = _period(validity[1]) if validity else (NONE, NONE)
    return result


def extract_business_licence(
    lines: list[str], context: Mapping[str, str] | None = None
) -> dict[str, Read]:
    """USCC, company name, legal representative and term end from a business licence."""
    text = [normalise_line(line) for line in lines]
    found = _row_after(text, ["统一社会信用代码"])
    tokens = [found[1]] if found else []
    tokens += _tokens(_USCC_TOKEN, text)
    uscc = NONE
    for token in tokens:
        uscc = correct_uscc(token, context or {})
        if uscc[0] is not None:
            break
    company = _company(text)
    term = _row_after(text, ["营业期限"])
    _, valid_to = _period(_until(term[1], _LICENCE_LABELS)) if term else (NONE, NONE)
    return {
        "uscc": uscc,
        "company_name": company,
        "legal_representative": _name(
            text, ["法定代表人", "负责人", "经营者", "执行事务合伙人"], _LICENCE_LABELS
        ),
        "valid_to": valid_to,
    }


# The value of the 类型 row ("有限责任公司（自然人投资或控股）"): a company's legal form,
# never its name, however close to the 名称 label it was read.
_COMPANY_TYPE = re.compile(
    r"^(其他)?(有限责任公司|股份有限公司|个人独资企业|合伙企业|普通合伙|有限合伙|个体工商户"
    r"|农民专业合作社|全民所有制|集体所有制)|自然人(投资|独资)|法人独资"
)


def _company(text: Sequence[str]) -> Read:
    """The company name from the 名称 row only; a company type there is no name."""
    company = _trim(_until(_cell_after(text, ["名称"], next_row=False), _LICENCE_LABELS))
    if len(company) < 4 or _COMPANY_TYPE.search(company) or "营业执照" in company:
        return NONE
    return company, EXACT


def _certificate_number(text: Sequence[str]) -> Read:
    """The number after 证号; one holding an ID number must pass its check character.

    A driving licence's 证号 is its holder's ID number, and most qualification certificates
    print it too (with a letter before it): such a number is read like one, repaired only when
    unambiguous, else unreadable. Other numbers need digits and some length, so that a gloss
    or a mark beside the label is never taken for one.
    """
    # Not "编号" alone: 档案编号 on a driving licence's second page is a file number.
    found = _find(text, ["证书编号", "证号", "公民身份号码"])
    if found is None:
        return NONE
    i, rest = found
    cells = _cells(rest) or (_cells(text[i + 1]) if i + 1 < len(text) else [])
    for cell in cells:
        token = re.match(r"[0-9A-Za-z\-|!×]+", compact(cell))
        if token is None or len(token[0]) < 8:
            continue
        value = token[0]
        if sum(c.isdigit() for c in value) >= 15:  # an ID number, perhaps after a letter
            prefix = value[0].upper() if len(value) == 19 and value[0].isalpha() else ""
            number, how = correct_citizen_id(value[len(prefix) :], {})
            return (prefix + number, how) if number else NONE
        return (value.upper(), EXACT) if sum(c.isdigit() for c in value) >= 6 else NONE
    return NONE


def extract_certificate(lines: list[str]) -> dict[str, Read]:
    """Certificate number, holder name and expiry date from a qualification or permit."""
    text = [normalise_line(line) for line in lines]
    expiry = _row_after(text, ["有效期至", "有效期限至"])
    if expiry is not None:
        expiry_date = _date_or_permanent(_until(expiry[1], _CERTIFICATE_LABELS))
    else:
        period = _row_after(text, ["有效期限", "有效期"])
        _, expiry_date = _period(_until(period[1], _CERTIFICATE_LABELS)) if period else (NONE, NONE)
    return {
        "certificate_number": _certificate_number(text),
        "holder_name": _name(text, ["持证人", "姓名"], _CERTIFICATE_LABELS),
        "expiry_date": expiry_date,
    }
