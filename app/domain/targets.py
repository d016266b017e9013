"""The service's own targets, measured per department and month from what happened to cases.

The seed that set up 不出门办 (seed 003) commits to two figures: nine in ten matters done with
at most one visit (跑一次), and time limits cut by half (handling within half the legal limit).
The other figures supervisors are asked for (网上预审率, 办结率, 满意率) are shown without a
target of their own: no document here fixes one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

__all__ = ["TARGETS", "CaseFacts", "Figure", "MonthFigures", "Target", "monthly_figures"]

SATISFIED = frozenset({"非常满意", "满意"})


class Better(Enum):
    HIGHER = "≥"
    LOWER = "≤"


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    goal: float | None  # a share, 0..1; None: measured, no target set
    better: Better = Better.HIGHER
    basis: str = ""

    def met(self, value: float | None) -> bool | None:
        if self.goal is None or value is None:
            return None
        return value >= self.goal if self.better is Better.HIGHER else value <= self.goal

    @property
    def goal_zh(self) -> str:
        return "" if self.goal is None else f"目标 {self.better.value} {self.goal:.0%}"


TARGETS = (
    Target("visits", "跑零次或跑一次", 0.90, basis="种子 003：九成事项最多跑一次"),
    Target("time_used", "用时占法定时限", 0.50, Better.LOWER, basis="种子 003：办理时限压缩一半"),
    Target("online", "网上预审率", None),
    Target("finished", "办结率", None),
    Target("satisfied", "满意率", None, basis="非常满意与满意占评价的比例"),
)


@dataclass(frozen=True)
class CaseFacts:
    """What one case (or one hall visit without an online case) adds to its month's figures."""

    department: str
    month: str  # "2026-12", the month it was submitted (or the hall visit made)
    online: bool  # pre-reviewed on the mobile page rather than brought to the hall unseen
    finished: bool  # the office's part is over: refused, withdrawn or the result issued
    visits: int = 0  # hall visits the applicant made for it
    used_days: int | None = None  # working days to the decision, pauses left out
    legal_days: int = 0  # the matter's legal limit (行政许可法 Art. 42 or the matter's law)
    rating: str | None = None
    case: bool = True  # False: a hall visit for a matter with no online case (counts as 未预审)


@dataclass(frozen=True)
class Figure:
    target: Target
    value: float | None  # None: nothing to measure this month
    count: int  # how many cases the share is taken over

    @property
    def met(self) -> bool | None:
        return self.target.met(self.value)


@dataclass(frozen=True)
class MonthFigures:
    department: str
    month: str
    cases: int
    figures: tuple[Figure, ...]


def monthly_figures(facts: Iterable[CaseFacts]) -> list[MonthFigures]:
    """Each (department, month) with its figures in TARGETS order, newest month first."""
    groups: dict[tuple[str, str], list[CaseFacts]] = {}
    for fact in facts:
        groups.setdefault((fact.department, fact.month), []).append(fact)
    out = [
        MonthFigures(department, month, sum(f.case for f in group), _figures(group))
        for (department, month), group in groups.items()
    ]
    out.sort(key=lambda m: (m.month, m.department), reverse=True)
    return out


def _figures(group: list[CaseFacts]) -> tuple[Figure, ...]:
    cases = [f for f in group if f.case]
    done = [f for f in cases if f.finished]
    timed = [f for f in cases if f.used_days is not None and f.legal_days > 0]
    rated = [f for f in cases if f.rating]
    values = {
        "visits": _share(sum(f.visits <= 1 for f in done), len(done)),
        "time_used": (
            sum(f.used_days / f.legal_days for f in timed if f.used_days is not None) / len(timed)
            if timed
            else None,
            len(timed),
        ),
        "online": _share(sum(f.online for f in group), len(group)),
        "finished": _share(len(done), len(cases)),
        "satisfied": _share(sum(f.rating in SATISFIED for f in rated), len(rated)),
    }
    return tuple(Figure(t, *values[t.key]) for t in TARGETS)


def _share(part: int, whole: int) -> tuple[float | None, int]:
    return (part / whole if whole else None), whole
