"""``buchumen bench soak --smoke`` drives every kind of traffic at a real ``buchumen serve``,
gets only expected answers, prints the server's RSS and its slope, and stops it by SIGTERM."""

from __future__ import annotations

import re

from rich.console import Console

from app.bench.soak import run_soak_bench, slope


async def test_the_soak_smoke_run_answers_everything_and_prints_the_rss() -> None:
    console = Console(record=True, width=200)
    report = await run_soak_bench(minutes=0, console=console, smoke=True)
    console.print(report.table())
    out = console.export_text()

    assert report.ok, out
    assert "every request answered as expected" in out and "0 unexpected" in out
    for step in ("open again", "upload", "submit", "return", "chat", "queue"):
        assert re.search(rf"\b{step} [1-9]", out), step  # each kind of traffic ran
    assert len(re.findall(r"│\s+\d+\.\d\d │\s+\d+\.\d │", out)) >= 5  # RSS samples
    assert re.search(r"stopped by SIGTERM within the grace \(8 s\)\s+│\s+\d\.\d s\s+│\s+met", out)


def test_the_slope_is_megabytes_per_minute_by_least_squares() -> None:
    assert slope([(0, 100.0), (1, 100.5), (2, 101.0), (3, 101.5)]) == 0.5
    assert slope([(0, 100.0), (1, 101.0), (2, 100.0), (3, 101.0)]) == 0.2
    assert slope([(0, 100.0)]) == 0.0
