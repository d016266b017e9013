"""Citizen ID numbers and USCCs with valid check characters, computed independently of ocr/."""

from __future__ import annotations

import random
from datetime import date

__all__ = ["citizen_id", "uscc"]

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def citizen_id(region: str, birth: date, male: bool, rng: random.Random) -> str:
    """GB 11643: region, birth date, two sequence digits, a sex digit (odd for men), check char."""
    sex_digit = rng.randrange(1, 10, 2) if male else rng.randrange(0, 10, 2)
    first17 = f"{region}{birth:%Y%m%d}{rng.randrange(100):02d}{sex_digit}"
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def uscc(region: str, rng: random.Random) -> str:
    """GB 32100 for an enterprise: 9 (market regulator), 1, region, organisation code, check."""
    # The GB 11714 organisation code carries its own check character; validators check both.
    body = rng.choice(("MA", "")) + "".join(rng.choice(_USCC_CHARSET) for _ in range(8))
    body = body[:8]
    org_total = sum(_ORG_CHARSET.index(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    org_check = {10: "X", 11: "0"}.get(11 - org_total % 11, str(11 - org_total % 11))
    first17 = f"91{region}{body}{org_check}"
    total = sum(_USCC_CHARSET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return first17 + _USCC_CHARSET[(31 - total % 31) % 31]
