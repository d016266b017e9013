"""Citizen ID numbers (GB 11643), unified social credit codes (GB 32100) and PIPL masking."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from app.domain.errors import ValidationFailed

__all__ = [
    "CitizenId",
    "Sex",
    "Uscc",
    "citizen_id_check_char",
    "is_valid_citizen_id",
    "is_valid_uscc",
    "mask_id_number",
    "mask_phone",
    "mask_sensitive",
    "mask_uscc",
    "number_kind",
    "organization_code_check_char",
    "parse_citizen_id",
    "parse_uscc",
    "uscc_check_char",
]

Sex = Literal["M", "F"]

# --- GB 11643-1999 citizen identity number ---------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_EARLIEST_BIRTH = date(1900, 1, 1)

# Province-level codes of GB/T 2260, plus the prefixes of the residence permits for Hong Kong
# (81), Macao (82) and Taiwan (83) residents, which carry GB 11643 numbers under the 2018
# 《港澳台居民居住证申领发放办法》. 83 is accepted because such holders use the permit number
# for every government matter. 71 (Taiwan province) is in GB/T 2260, so it stays accepted.
_PROVINCE_CODES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23"}
    | {"31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54"}
    | {"61", "62", "63", "64", "65", "71", "81", "82", "83"}
)

_ID_SHAPE_MESSAGE = "身份证号码应为18位，由17位数字和1位数字或字母X组成，请核对后重新输入"
_ID_REGION_MESSAGE = "身份证号码前6位地区代码不正确，请核对后重新输入"
_ID_BIRTH_MESSAGE = "身份证号码中的出生日期不正确，请核对后重新输入"
_ID_CHECK_MESSAGE = "身份证号码校验位不正确，请核对后重新输入"


@dataclass(frozen=True, repr=False)
class CitizenId:
    """A citizen identity number that passed every GB 11643 check, with the facts it encodes."""

    number: str
    birth_date: date
    sex: Sex
    region_code: str

    @property
    def masked(self) -> str:
        """The number with all but the first and last four characters starred."""
        return mask_id_number(self.number)

    def __repr__(self) -> str:
        # A repr ends up in logs and tracebacks, so it must not carry the full number (PIPL).
        return f"CitizenId({self.masked!r})"


def _normalise(raw: str) -> str:
    # NFKC folds full-width digits and letters typed with Chinese input methods to ASCII;
    # applicants also group the number with spaces, so all whitespace is dropped.
    folded = unicodedata.normalize("NFKC", raw)
    return "".join(folded.split()).upper()


def citizen_id_check_char(first17: str) -> str:
    """Return the GB 11643 check character ("0"-"9" or "X") for the first 17 digits."""
    if not re.fullmatch(r"[0-9]{17}", first17):
        raise ValueError("a citizen ID check character needs exactly 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def parse_citizen_id(raw: str, *, today: date) -> CitizenId:
    """Return the normalised citizen ID in ``raw``, or raise ValidationFailed saying why not."""
    number = _normalise(raw)
    # The 15-digit first-generation cards stopped being valid in 2013, so they are refused too.
    if not _ID_SHAPE.fullmatch(number):
        raise ValidationFailed(_ID_SHAPE_MESSAGE)
    # Only the province is checked: county codes change with re-divisions, but a number keeps
    # the code it was issued under for life, so a current county table would refuse real people.
    if number[:2] not in _PROVINCE_CODES:
        raise ValidationFailed(_ID_REGION_MESSAGE)
    # Date and region come before the check digit so that a typo in the birth date gets the
    # more specific message.
    try:
        birth_date = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationFailed(_ID_BIRTH_MESSAGE) from None
    if not _EARLIEST_BIRTH <= birth_date <= today:
        raise ValidationFailed(_ID_BIRTH_MESSAGE)
    if citizen_id_check_char(number[:17]) != number[17]:
        raise ValidationFailed(_ID_CHECK_MESSAGE)
    # GB 11643 §4.3: the sequence code (digits 15-17) is odd for men, even for women.
    sex: Sex = "M" if int(number[16]) % 2 else "F"
    return CitizenId(number=number, birth_date=birth_date, sex=sex, region_code=number[:6])


def is_valid_citizen_id(raw: str, *, today: date) -> bool:
    """Return whether ``raw`` would be accepted by ``parse_citizen_id``."""
    try:
        parse_citizen_id(raw, today=today)
    except ValidationFailed:
        return False
    return True


# --- GB 32100-2015 unified social credit code -------------------------------------------------

_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_CLASS = "0-9A-HJ-NPQRTUWXY"
_USCC_SHAPE = re.compile(rf"[{_USCC_CLASS}]{{18}}")
# GB 11714-1997: the 8-character body of an organisation code, with its own check character.
_ORG_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

_USCC_SHAPE_MESSAGE = (
    "统一社会信用代码应为18位，由数字和大写英文字母组成（不含I、O、Z、S、V），请核对后重新输入"
)
_USCC_REGION_MESSAGE = "统一社会信用代码第3至8位应为行政区划代码（6位数字），请核对后重新输入"
_USCC_CHECK_MESSAGE = "统一社会信用代码校验位不正确，请核对后重新输入"
_USCC_ORG_MESSAGE = "统一社会信用代码第9至17位（组织机构代码）不正确，请核对后重新输入"


@dataclass(frozen=True)
class Uscc:
    """A unified social credit code that passed the GB 32100 and GB 11714 checks, split up."""

    code: str
    registration_authority: str
    org_type: str
    region_code: str
    organization_code: str

    @property
    def masked(self) -> str:
        """The code with all but the first and last four characters starred."""
        return mask_uscc(self.code)


def uscc_check_char(first17: str) -> str:
    """Return the GB 32100 check character for the first 17 characters of a code."""
    if len(first17) != 17 or any(char not in _USCC_CHARSET for char in first17):
        raise ValueError("a USCC check character needs 17 characters of the GB 32100 charset")
    total = sum(
        _USCC_CHARSET.index(char) * weight
        for char, weight in zip(first17, _USCC_WEIGHTS, strict=True)
    )
    return _USCC_CHARSET[(31 - total % 31) % 31]


def organization_code_check_char(body: str) -> str:
    """Return the GB 11714 check character ("0"-"9" or "X") for an 8-character code body."""
    if len(body) != 8 or any(char not in _ORG_CHARSET for char in body):
        raise ValueError("an organisation code body is 8 digits or capital letters")
    total = sum(
        _ORG_CHARSET.index(char) * weight for char, weight in zip(body, _ORG_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def parse_uscc(raw: str) -> Uscc:
    """Return the normalised unified social credit code in ``raw``, or raise ValidationFailed."""
    code = _normalise(raw)
    if not _USCC_SHAPE.fullmatch(code):
        raise ValidationFailed(_USCC_SHAPE_MESSAGE)
    if not code[2:8].isdigit():
        raise ValidationFailed(_USCC_REGION_MESSAGE)
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationFailed(_USCC_CHECK_MESSAGE)
    # GB 32100 §4.4 makes characters 9-17 a GB 11714 organisation code; checking its own check
    # character as well catches fabricated codes that were made to pass the outer check only.
    if organization_code_check_char(code[8:16]) != code[16]:
        raise ValidationFailed(_USCC_ORG_MESSAGE)
    return Uscc(
        code=code,
        registration_authority=code[0],
        org_type=code[1],
        region_code=code[2:8],
        organization_code=code[8:17],
    )


def is_valid_uscc(raw: str) -> bool:
    """Return whether ``raw`` would be accepted by ``parse_uscc``."""
    try:
        parse_uscc(raw)
    except ValidationFailed:
        return False
    return True


def number_kind(raw: str) -> Literal["citizen_id", "uscc"] | None:
    """Which number ``raw`` is shaped as, before its checks: a citizen ID number, a credit
    code, or neither. A credit code of digits only (many real ones) has a citizen ID's shape
    too; it counts as a credit code when it passes GB 32100."""
    code = _normalise(raw)
    if _ID_SHAPE.fullmatch(code) and not is_valid_uscc(code):
        return "citizen_id"
    return "uscc" if _USCC_SHAPE.fullmatch(code) else None


# --- PIPL masking ------------------------------------------------------------------------------


def _star_middle(value: str, *, keep_head: int, keep_tail: int) -> str:
    if len(value) <= keep_head + keep_tail:
        return "*" * len(value)
    hidden = len(value) - keep_head - keep_tail
    return value[:keep_head] + "*" * hidden + value[len(value) - keep_tail :]


def mask_id_number(number: str) -> str:
    """Return ``number`` with everything but its first and last four characters starred."""
    return _star_middle(number, keep_head=4, keep_tail=4)


def mask_uscc(code: str) -> str:
    """Return ``code`` with everything but its first and last four characters starred."""
    return _star_middle(code, keep_head=4, keep_tail=4)


def mask_person_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: enough for the person and a verifier to recognise, not to
    learn (PIPL)."""
    return _star_middle(name, keep_head=1, keep_tail=0) if len(name) > 1 else name


def mask_phone(number: str) -> str:
    """Return a mobile number with only its first three and last four digits: 138****5678."""
    return _star_middle(number, keep_head=3, keep_tail=4)


# Numbers are fenced by "no ASCII digit on either side" rather than \b: in Chinese text the
# neighbours are CJK characters, which \b counts as word characters ("身份证号110…" has no \b).
# Case numbers ("BC" + 14 digits) and timestamps never form a run of exactly 18 or 11 digits.
_ID_LIKE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_PHONE_LIKE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
# A USCC mixes letters and digits, so its fence is any ASCII letter or digit; otherwise every
# 18-character window of a longer token (a hash, a nonce) would be a candidate.
_USCC_LIKE = re.compile(
    rf"(?<![0-9A-Za-z])[{_USCC_CLASS}]{{2}}[0-9]{{6}}[{_USCC_CLASS}]{{10}}(?![0-9A-Za-z])",
    re.IGNORECASE,
)


def _mask_uscc_match(match: re.Match[str]) -> str:
    token = match.group(0)
    # Only tokens passing the outer check are masked: random 18-character words are left alone.
    if uscc_check_char(token[:17].upper()) == token[17].upper():
        return mask_uscc(token)
    return token


def mask_sensitive(text: str) -> str:
    """Return ``text`` with ID-like numbers, checked USCCs and mainland mobile numbers masked."""
    # Citizen-ID-like runs are masked valid or not: a mistyped number is still personal data.
    masked = _ID_LIKE.sub(lambda match: mask_id_number(match.group(0)), text)
    masked = _USCC_LIKE.sub(_mask_uscc_match, masked)
    return _PHONE_LIKE.sub(lambda match: mask_phone(match.group(0)), masked)
