"""What every benchmark promises: its goals, each printed met / NOT met beside its figure.

A goal is either about correctness (every order settled once, every reply right), checked at
every size, or about a figure (msg/s, p99), checked only at full size: a smoke run in CI is
too small and too shared to hold a figure to, but it still fails when the bench breaks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rich.table import Table


@dataclass(frozen=True)
class Goal:
    name: str  # what is promised, with its bound: "p99 ≤ 50 ms"
    measured: str  # the figure the run gave: "42.1 ms"
    met: bool
    correctness: bool = False  # checked at smoke size too

    def verdict(self, *, smoke: bool) -> str:
        if smoke and not self.correctness:
            return "not checked (smoke)"
        return "met" if self.met else "NOT met"


@dataclass
class Report:
    """One benchmark's run: its goals, and the sentence it ended with if it broke."""

    bench: str
    smoke: bool
    goals: list[Goal] = field(default_factory=list)

    def add(self, name: str, measured: str, met: bool, *, correctness: bool = False) -> None:
        self.goals.append(Goal(name, measured, met, correctness))

    def check(self, name: str, wrong: Sequence[str], total: int) -> None:
        """A correctness goal: none of ``total`` went wrong (``wrong`` names those that did)."""
        measured = f"{total - len(wrong)} of {total}" + (f"; e.g. {wrong[0]}" if wrong else "")
        self.add(name, measured, not wrong and total > 0, correctness=True)

    def checked(self) -> list[Goal]:
        return [g for g in self.goals if g.correctness or not self.smoke]

    @property
    def ok(self) -> bool:
        return bool(self.goals) and all(g.met for g in self.checked())

    def table(self) -> Table:
        return goal_table([self], title=f"bench {self.bench} · goals")


def goal_table(reports: Iterable[Report], *, title: str) -> Table:
    table = Table(title=title)
    for column in ("bench", "goal", "measured", ""):
        table.add_column(column, justify="right" if column in ("measured", "") else "left")
    for report in reports:
        if not report.goals:
            table.add_row(report.bench, "ran to the end", "no goal reported", "NOT met")
        for goal in report.goals:
            table.add_row(report.bench, goal.name, goal.measured, goal.verdict(smoke=report.smoke))
    return table


def status(reports: Iterable[Report]) -> int:
    """The exit status: 1 when any report missed a goal it checks (or reported none)."""
    return 0 if all(r.ok for r in reports) else 1
