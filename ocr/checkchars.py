"""GB 11643 and GB 32100 check characters, kept here because ocr/ may not import app/."""

from __future__ import annotations

__all__ = [
    "USCC_CHARSET",
    "citizen_id_check_char",
    "citizen_id_ok",
    "organization_code_check_char",
    "uscc_check_char",
    "uscc_ok",
]

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_DIGITS = frozenset("0123456789")

# GB 32100: digits and capitals without I, O, S, V, Z (they read too much like 1, 0, 5, U, 2).
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def citizen_id_check_char(first17: str) -> str:
    """Return the GB 11643 check character ("0"-"9" or "X") for 17 ASCII digits."""
    if len(first17) != 17 or not set(first17) <= _DIGITS:
        raise ValueError("a citizen ID check character needs exactly 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def citizen_id_ok(s: str) -> bool:
    """Return whether ``s`` is 17 digits followed by their GB 11643 check character."""
    if len(s) != 18 or not set(s[:17]) <= _DIGITS:
        return False
    return citizen_id_check_char(s[:17]) == s[17]


def uscc_check_char(first17: str) -> str:
    """Return the GB 32100 check character for 17 characters of the USCC charset."""
    if len(first17) != 17 or any(char not in USCC_CHARSET for char in first17):
        raise ValueError("a USCC check character needs 17 characters of the GB 32100 charset")
    total = sum(
        USCC_CHARSET.index(char) * weight
        for char, weight in zip(first17, _USCC_WEIGHTS, strict=True)
    )
    return USCC_CHARSET[(31 - total % 31) % 31]


def organization_code_check_char(body: str) -> str:
    """Return the GB 11714 check character ("0"-"9" or "X") for an 8-character code body."""
    if len(body) != 8 or any(char not in _ORG_CHARSET for char in body):
        raise ValueError("an organisation code body is 8 digits or capital letters")
    total = sum(
        _ORG_CHARSET.index(char) * weight for char, weight in zip(body, _ORG_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def uscc_ok(s: str) -> bool:
    """Return whether ``s`` is a well-formed USCC: charset, region digits, both check chars."""
    if len(s) != 18 or any(char not in USCC_CHARSET for char in s):
        return False
    # Characters 3-8 are a GB/T 2260 region code and characters 9-17 a GB 11714 organisation
    # code with its own check character. Checking both, like app.domain.identity does, makes a
    # wrong OCR correction that happens to pass the outer check about eleven times rarer.
    if not s[2:8].isdigit() or uscc_check_char(s[:17]) != s[17]:
        return False
    return organization_code_check_char(s[8:16]) == s[16]
