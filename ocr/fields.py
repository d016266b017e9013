"""Fields read from OCR text lines, with ID numbers and USCCs corrected only when unambiguous.

Every value comes back as ``(value, how)``: ``how`` is "exact" (read as printed),
"corrected" (an ID or USCC repaired by confusion substitutions, exactly one candidate valid)
or "unreadable" (value None). Nothing is ever guessed: a corrected number differs from the
OCR text only at positions whose character is listed in ``CONFUSIONS``.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date

from ocr.checkchars import USCC_CHARSET, citizen_id_ok, uscc_ok

__all__ = [
    "CONFUSIONS",
    "MAX_CANDIDATES",
    "MAX_SUBSTITUTIONS",
    "USCC_LOOKALIKES",
    "correct_citizen_id",
    "correct_uscc",
    "extract_business_licence",
    "extract_certificate",
    "extract_id_back",
    "extract_id_front",
]

Read = tuple[str | None, str]

# What an OCR engine prints for a digit it misread: printed character -> the digits it may be.
# Most are one-to-one; S and Z are two-way because in the card fonts S sits between 5 and 8
# and a crossed 7 reads as Z. "×" is the check position's X read as a multiplication sign.
CONFUSIONS: Mapping[str, str] = {
    "O": "0", "o": "0", "D": "0", "Q": "0",
    "I": "1", "L": "1", "l": "1", "|": "1", "!": "1",
    "Z": "27", "z": "2",
    "S": "58", "s": "5",
    "B": "8",
    "G": "6", "b": "6",
    "g": "9", "q": "9",
    "T": "7",
    "A": "4",
    "×": "X",
}  # fmt: skip

# Letter positions of a USCC: both a digit and its look-alike capital are in the charset, so a
# character of the charset may also be the other one. Only charset characters are targets
# (0 never becomes O: O is not in GB 32100), and O, I, S, V, Z must always be replaced.
USCC_LOOKALIKES: Mapping[str, str] = {
    "0": "DQ", "D": "0", "Q": "0", "O": "0DQ",
    "1": "L", "L": "1", "I": "1L",
    "2": "", "Z": "2",
    "5": "", "S": "5",
    "8": "B", "B": "8",
    "6": "G", "G": "6",
    "7": "T", "T": "7",
    "4": "A", "A": "4",
    "V": "UY", "U": "", "Y": "",
}  # fmt: skip

MAX_SUBSTITUTIONS = 3
MAX_CANDIDATES = 10_000

EXACT, CORRECTED, UNREADABLE = "exact", "corrected", "unreadable"
_NONE: Read = (None, UNREADABLE)

# GB/T 2260 provinces and the 81/82/83 residence permits, as app.domain.identity accepts them.
_PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54"}
    | {"61", "62", "63", "64", "65", "71", "81", "82", "83"}
)
_DATE = re.compile(r"((?:19|20)\d{2})\s*[年.\-/]\s*(\d{1,2})\s*[月.\-/]\s*(\d{1,2})\s*日?")


# --- normalisation ------------------------------------------------------------------------------


def _cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff"


def _normalise_line(line: str) -> str:
    # NFKC folds full-width digits, letters and the colon "：" to ASCII; OCR puts spaces
    # between CJK characters ("姓 名"), which never carry meaning, so they are dropped.
    text = unicodedata.normalize("NFKC", line).strip()
    return re.sub(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])", "", text)


def _compact(raw: str) -> str:
    return "".join(unicodedata.normalize("NFKC", raw).split())


def _parse_date(text: str) -> date | None:
    match = _DATE.search(text)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


# --- correction ---------------------------------------------------------------------------------

# One position of an OCR'd number: whether its character may stand as read, and what else it
# may be. A position that may not stand must be substituted.
_Slot = tuple[str, bool, str]


def _candidates(slots: Sequence[_Slot]) -> Iterator[str] | None:
    """Every string reachable with at most MAX_SUBSTITUTIONS, or None when there are too many."""
    forced = [i for i, (_, keep, _) in enumerate(slots) if not keep]
    optional = [i for i, (_, keep, alts) in enumerate(slots) if keep and alts]
    if any(not slots[i][2] for i in forced) or len(forced) > MAX_SUBSTITUTIONS:
        return None
    spare = MAX_SUBSTITUTIONS - len(forced)
    choices = [combo for k in range(spare + 1) for combo in itertools.combinations(optional, k)]

    def size(combo: tuple[int, ...]) -> int:
        total = 1
        for i in (*forced, *combo):
            total *= len(slots[i][2])
        return total

    # Counted before any is produced: if the search would be cut short, uniqueness among the
    # candidates could not be known, so the caller must give up rather than accept one.
    if sum(size(combo) for combo in choices) > MAX_CANDIDATES:
        return None

    def generate() -> Iterator[str]:
        base = [char for char, _, _ in slots]
        for combo in choices:
            positions = (*forced, *combo)
            for picks in itertools.product(*(slots[i][2] for i in positions)):
                chars = list(base)
                for i, pick in zip(positions, picks, strict=True):
                    chars[i] = pick
                yield "".join(chars)

    return generate()


def _unique(candidates: Iterator[str] | None, ok: Callable[[str], bool]) -> str | None:
    if candidates is None:
        return None
    found: set[str] = set()
    for candidate in candidates:
        if ok(candidate):
            found.add(candidate)
            if len(found) > 1:
                return None
    return found.pop() if found else None


def _id_slots(number: str) -> list[_Slot]:
    slots: list[_Slot] = []
    for i, char in enumerate(number):
        allowed = "0123456789X" if i == 17 else "0123456789"
        alts = "".join(c for c in CONFUSIONS.get(char, "") if c in allowed)
        slots.append((char, char in allowed, "" if char in allowed else alts))
    return slots


def _context_sex(context: Mapping[str, str]) -> str | None:
    sex = context.get("sex", "").strip().upper()
    return {"男": "M", "M": "M", "女": "F", "F": "F"}.get(sex)


def _id_plausible(number: str, context: Mapping[str, str], today: date | None) -> bool:
    if not citizen_id_ok(number) or number[:2] not in _PROVINCES:
        return False
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if birth < date(1900, 1, 1) or (today is not None and birth > today):
        return False
    printed = _parse_date(context.get("birth_date", ""))
    if printed is not None and printed != birth:
        return False
    sex = _context_sex(context)
    # GB 11643 §4.3: the sequence code is odd for men, even for women.
    return sex is None or sex == ("M" if int(number[16]) % 2 else "F")


def correct_citizen_id(raw: str, context: Mapping[str, str], *, today: date | None = None) -> Read:
    """Return the ID number in ``raw`` as read, or repaired when exactly one repair fits."""
    number = _compact(raw).replace("x", "X")
    if len(number) != 18:
        return _NONE
    if citizen_id_ok(number):
        return number, EXACT
    found = _unique(_candidates(_id_slots(number)), lambda c: _id_plausible(c, context, today))
    return (found, CORRECTED) if found else _NONE


def _uscc_slots(code: str) -> list[_Slot]:
    slots: list[_Slot] = []
    for i, char in enumerate(code):
        if 2 <= i < 8:  # the GB/T 2260 region code: digits only
            keep = char.isascii() and char.isdigit()
            slots.append((char, keep, "" if keep else CONFUSIONS.get(char, "").replace("X", "")))
            continue
        upper = char.upper()
        keep = upper in USCC_CHARSET
        alts = set(USCC_LOOKALIKES.get(upper, "")) | set(CONFUSIONS.get(char, ""))
        alts = {a for a in alts if a in USCC_CHARSET and a != upper}
        slots.append((upper if keep else char, keep, "".join(sorted(alts))))
    return slots


def correct_uscc(raw: str, context: Mapping[str, str]) -> Read:
    """Return the USCC in ``raw`` as read, or repaired when exactly one repair fits.

    ``context["region"]``, when known, is the GB/T 2260 code (or its prefix) of the issuing
    authority; candidates from elsewhere are dropped.
    """
    code = _compact(raw)
    if len(code) != 18:
        return _NONE
    if uscc_ok(code.upper()):
        return code.upper(), EXACT
    region = context.get("region", "").strip()

    def fits(candidate: str) -> bool:
        return uscc_ok(candidate) and candidate[2:8].startswith(region)

    found = _unique(_candidates(_uscc_slots(code)), fits)
    return (found, CORRECTED) if found else _NONE


# --- extraction ---------------------------------------------------------------------------------

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
        return _NONE
    # A Chinese name is CJK characters, with "·" between the parts of a transliterated one.
    match = re.match(r"[\u3400-\u9fff·•]+", _until(found[1], stops))
    return (match[0].replace("•", "·"), EXACT) if match else _NONE


def _date_read(text: str | None) -> Read:
    parsed = _parse_date(text) if text else None
    return (parsed.isoformat(), EXACT) if parsed else _NONE


def _date_or_permanent(text: str) -> Read:
    return ("长期", EXACT) if "长期" in text else _date_read(text)


def extract_id_front(lines: list[str], *, today: date | None = None) -> dict[str, Read]:
    """Name, sex, birth date, address and ID number from the portrait side of an ID card.

    ``mismatch`` is ("birth_date", "sex" or both, "mismatch") when the printed facts disagree
    with the ID number, (None, "consistent") when they agree, (None, "unchecked") otherwise.
    """
    text = [_normalise_line(line) for line in lines]
    result: dict[str, Read] = {"name": _name(text, ["姓名"], _FRONT_LABELS[1:])}
    sex = _after(text, ["性别"])
    sex_match = re.match(r"\s*([男女])", sex[1]) if sex else None
    result["sex"] = (sex_match[1], EXACT) if sex_match else _NONE
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
        return _NONE
    start, first = found
    parts = [_until(first, ["公民身份号码"])]
    # The address wraps over up to three lines; it ends at the ID number or another label.
    for line in text[start + 1 : start + 3]:
        if any(label in line for label in _FRONT_LABELS) or _ID_TOKEN.search(line.replace(" ", "")):
            break
        parts.append(line)
    address = "".join("".join(parts).split())
    return (address, EXACT) if address else _NONE


def _id_number(text: Sequence[str], context: Mapping[str, str], today: date | None) -> Read:
    found = _after(text, ["公民身份号码"])
    tokens = [found[1]] if found else []
    tokens += [m[0] for line in text for m in _ID_TOKEN.finditer(line.replace(" ", ""))]
    for token in tokens:
        read = correct_citizen_id(token, context, today=today)
        if read[0] is not None:
            return read
    return _NONE


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
    text = [_normalise_line(line) for line in lines]
    issuer = _after(text, ["签发机关"])
    issuer_value = _until(issuer[1], ["有效期限"]) if issuer else ""
    result: dict[str, Read] = {"issuer": (issuer_value, EXACT) if issuer_value else _NONE}
    validity = _after(text, ["有效期限"])
    parts = re.split(r"\s*[-—–~至]\s*(?=\d{4}|长期)", validity[1], maxsplit=1) if validity else []
    result["valid_from"] = _date_read(parts[0]) if parts else _NONE
    result["valid_to"] = _date_or_permanent(parts[1]) if len(parts) == 2 else _NONE
    return result


def extract_business_licence(
    lines: list[str], context: Mapping[str, str] | None = None
) -> dict[str, Read]:
    """USCC, company name, legal representative and term end from a business licence."""
    text = [_normalise_line(line) for line in lines]
    found = _after(text, ["统一社会信用代码"])
    tokens = [found[1]] if found else []
    tokens += [m[0] for line in text for m in _USCC_TOKEN.finditer(line.replace(" ", ""))]
    uscc = _NONE
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
        valid_to = ("长期", EXACT) if term and "长期" in term[1] else _NONE
    return {
        "uscc": uscc,
        "company_name": (company, EXACT) if company else _NONE,
        "legal_representative": _name(
            text, ["法定代表人", "负责人", "经营者", "执行事务合伙人"], ["类型", "住所", "注册"]
        ),
        "valid_to": valid_to,
    }


def extract_certificate(lines: list[str]) -> dict[str, Read]:
    """Certificate number, holder name and expiry date from a qualification or permit."""
    text = [_normalise_line(line) for line in lines]
    number = _after(text, ["证书编号", "证号", "编号"])
    match = re.match(r"[0-9A-Za-z\-]+", number[1].replace(" ", "")) if number else None
    expiry = _after(text, ["有效期至", "有效期限至"])
    if expiry is None:
        period = _after(text, ["有效期"])
        expiry = (period[0], period[1].split("至", 1)[1]) if period and "至" in period[1] else None
    return {
        "certificate_number": (match[0].upper(), EXACT) if match else _NONE,
        "holder_name": _name(text, ["持证人", "姓名"], ["性别", "证号", "编号", "身份证"]),
        "expiry_date": _date_or_permanent(expiry[1]) if expiry else _NONE,
    }
