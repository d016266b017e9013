"""Short codes: eight characters a person can read out and type when a QR code will not scan.

About 40 random bits from an alphabet with nothing to misread (no 0/O, 1/I/L). A short code
stands for a longer signed one (a hand-over token, a booking's check-in code) and is looked up
to it; guessing one online is hopeless at 31⁸ ≈ 8.5 × 10¹¹.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_SHORT = re.compile(f"[{ALPHABET}]{{8}}")


def new_short_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(8))


def as_short_code(typed: str) -> str | None:
    """What a person typed, as a short code ("fd8b-5rdq" → "FD8B5RDQ"), or None if it is not one."""
    code = "".join(typed.split()).replace("-", "").upper()
    return code if _SHORT.fullmatch(code) else None


def spaced(code: str) -> str:
    """The form shown to read out: "FD8B-5RDQ"."""
    return f"{code[:4]}-{code[4:]}"
