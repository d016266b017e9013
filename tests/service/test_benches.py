"""``buchumen bench all --smoke`` runs every benchmark at a small size and each meets its
correctness goals: a change that breaks a bench fails here, not on someone's machine later."""

from __future__ import annotations

import io

from rich.console import Console

from app.bench.goals import Report, goal_table, status
from app.bench.suite import BENCHES, Runner, run_all


def console() -> Console:
    return Console(file=io.StringIO(), record=True, width=160)


# Benches whose smoke run takes well over 15 s run in a test of their own.
ON_THEIR_OWN = ("scale",)


def test_every_bench_runs_at_smoke_size_and_meets_its_correctness_goals() -> None:
    out = console()
    quick = {name: bench for name, bench in BENCHES.items() if name not in ON_THEIR_OWN}
    reports = run_all(out, smoke=True, benches=quick)
    assert [r.bench for r in reports] == list(quick)
    missed = {
        r.bench: [f"{g.name}: {g.measured}" for g in r.checked() if not g.met] or "no goal"
        for r in reports
        if not r.ok
    }
    assert missed == {}, out.export_text()[-4000:]
    # Each checks something at smoke size, and the table says so.
    assert all(any(g.correctness for g in r.goals) for r in reports)
    table = out.export_text()
    assert table.count("NOT met") == 0 and "not checked (smoke)" in table
    assert status(reports) == 0


def test_bench_scale_judges_every_photo_with_one_and_with_two_workers_at_smoke_size() -> None:
    """Two fleets (a web-only serve and one, then two, OCR workers): about 30 s."""
    out = console()
    [report] = run_all(out, smoke=True, benches={"scale": BENCHES["scale"]})
    assert report.ok, out.export_text()[-4000:]
    text = out.export_text()
    assert "2 workers / 1 worker:" in text and "8 of 8" in text


async def breaks(console: Console, *, smoke: bool) -> Report:
    raise RuntimeError("the bench's service changed under it")


async def misses_a_figure(console: Console, *, smoke: bool) -> Report:
    report = Report("slow", smoke)
    report.check("every answer right", [], 10)
    report.add("p99 ≤ 50 ms", "80.0 ms", False)
    return report


def test_a_bench_that_breaks_is_a_goal_missed_and_the_others_still_run() -> None:
    benches: dict[str, Runner] = {"broken": breaks, "slow": misses_a_figure}
    reports = run_all(console(), smoke=True, benches=benches)
    broken, slow = reports
    assert not broken.ok and "RuntimeError" in broken.goals[0].measured
    assert slow.ok  # a figure is not held to at smoke size
    assert status(reports) == 1


def test_a_figure_goal_missed_at_full_size_fails_the_run_and_says_not_met() -> None:
    [slow] = run_all(console(), smoke=False, benches={"slow": misses_a_figure})
    assert not slow.ok and status([slow]) == 1
    out = console()
    out.print(goal_table([slow], title="bench all"))
    row = next(line for line in out.export_text().splitlines() if "p99" in line)
    assert "80.0 ms" in row and "NOT met" in row
