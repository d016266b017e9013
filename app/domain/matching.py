"""Which matters a person means when they write in their own words ("我想换驾照").

Each matter is scored on the words people use for it (its keywords, in full) and on the pairs
of characters its name, result and renewed documents share with the text: Chinese words are
mostly two characters, so shared pairs find "驾驶证到期了" in 机动车驾驶证有效期满换证.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

from app.domain.catalog import Matter

KEYWORD = 10  # a keyword written in full says more than any number of shared pairs
ENOUGH = 2  # shared pairs below this are chance


def pairs(text: str) -> set[str]:
    chars = [c for c in text if "\u4e00" <= c <= "\u9fff" or c.isalnum()]
    return {a + b for a, b in pairwise(chars)}


def score(text: str, matter: Matter) -> int:
    hits = sum(KEYWORD for word in matter.keywords if word in text)
    shared = len(
        pairs(text) & _pairs_of((matter.name, matter.result, *matter.renews, *matter.keywords))
    )
    return hits + (shared if shared >= ENOUGH else 0)


@lru_cache(maxsize=1024)
def _pairs_of(names: tuple[str, ...]) -> frozenset[str]:
    # A matter's pairs, worked out once: every free-text message scores every matter.
    return frozenset().union(*(pairs(n) for n in names))


def best_matters(text: str, matters: Sequence[Matter], limit: int = 3) -> list[Matter]:
    """The matters ``text`` most likely means, best first; none when nothing fits.

    Only those scoring at least half the best are offered: a keyword hit outranks chance pairs.
    """
    scored = sorted(((score(text, m), i) for i, m in enumerate(matters)), reverse=True)
    best = scored[0][0] if scored else 0
    return [matters[i] for points, i in scored[:limit] if points > 0 and 2 * points >= best]
