"""What every benchmark prints its latencies with."""

from __future__ import annotations

from collections.abc import Sequence

from app.domain.supervision import percentile


def pct(samples: Sequence[float], q: int) -> float:
    """The ``q``-th percentile (nearest rank, as the supervisors' figures) of measured samples."""
    found = percentile(samples, q)
    if found is None:
        raise ValueError("no samples were measured")
    return found
