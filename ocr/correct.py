"""ID numbers and USCCs repaired from OCR text, only when exactly one reading can be right.

A corrected number differs from the OCR text only at positions whose character is listed in
``CONFUSIONS`` (or ``USCC_LOOKALIKES``), and must pass its check character and agree with the
rest of the document; when none or several candidates do, the field is unreadable. Nothing
is ever guessed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date

from ocr.checkchars import USCC_CHARSET, citizen_id_ok, uscc_ok
from ocr.text import CORRECTED, EXACT, NONE, Read, compact, parse_date

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

# GB/T 2260 provinces and the 81/82/83 residence permits, as app.domain.identity accepts them.
_PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54"}
    | {"61", "62", "63", "64", "65", "71", "81", "82", "83"}
)


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
    printed = parse_date(context.get("birth_date", ""))
    if printed is not None and printed != birth:
        return False
    sex = _context_sex(context)
    # GB 11643 §4.3: the sequence code is odd for men, even for women.
    return sex is None or sex == ("M" if int(number[16]) % 2 else "F")


def correct_citizen_id(raw: str, context: Mapping[str, str], *, today: date | None = None) -> Read:
    """Return the ID number in ``raw`` as read, or repaired when exactly one repair fits."""
    number = compact(raw).replace("x", "X")
    if len(number) != 18:
        return NONE
    if citizen_id_ok(number):
        return number, EXACT
    found = _unique(_candidates(_id_slots(number)), lambda c: _id_plausible(c, context, today))
    return (found, CORRECTED) if found else NONE


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
    code = compact(raw)
    if len(code) != 18:
        return NONE
    if uscc_ok(code.upper()):
        return code.upper(), EXACT
    region = context.get("region", "").strip()

    def fits(candidate: str) -> bool:
        return uscc_ok(candidate) and candidate[2:8].startswith(region)

    found = _unique(_candidates(_uscc_slots(code)), fits)
    return (found, CORRECTED) if found else NONE


# --- extraction ---------------------------------------------------------------------------------
