"""Every benchmark by name, at full size or at the smoke size CI runs, and ``bench all``.

Each bench runs in an event loop of its own, as ``buchumen bench <name>`` runs it; one that
breaks is reported as a goal missed and the others still run.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from rich.console import Console

from app.bench.goals import Report, goal_table

Runner = Callable[..., Coroutine[Any, Any, Report]]


async def store(console: Console, *, smoke: bool, cases: int | None = None) -> Report:
    from app.bench.store import run_store_bench

    size = cases or (400 if smoke else 100_000)
    return await run_store_bench(cases=size, console=console, smoke=smoke)


async def booking(console: Console, *, smoke: bool, bookings: int | None = None) -> Report:
    from app.bench.booking import run_booking_bench

    existing = 500 if smoke else 10_000
    count = bookings or (100 if smoke else 2_000)
    return await run_booking_bench(existing=existing, bookings=count, console=console, smoke=smoke)


async def pay(console: Console, *, smoke: bool, notices: int | None = None) -> Report:
    from app.bench.pay import run_pay_bench

    return await run_pay_bench(
        notices=notices or (20 if smoke else 2_000), console=console, smoke=smoke
    )


async def wechat(
    console: Console, *, smoke: bool, messages: int | None = None, concurrency: int | None = None
) -> Report:
    from app.bench.wechat import FULL, SMOKE, run_wechat_bench

    size = SMOKE if smoke else FULL
    size = size.resized(messages=messages, concurrency=concurrency)
    return await run_wechat_bench(size, console=console, smoke=smoke)


async def upload(console: Console, *, smoke: bool, rounds: int | None = None) -> Report:
    from app.bench.upload import FULL, SMOKE, run_upload_bench

    size = (SMOKE if smoke else FULL).resized(rounds=rounds)
    return await run_upload_bench(size, console=console, smoke=smoke)


async def precheck(
    console: Console, *, smoke: bool, images: int | None = None, engine: str = ""
) -> Report:
    from app.bench.precheck import run_precheck_bench
    from ocr.precheck import DEFAULT_ENGINE

    count = min(images, 20) if images else (2 if smoke else 20)
    return await run_precheck_bench(
        count=count, engine=engine or DEFAULT_ENGINE, console=console, smoke=smoke
    )


async def ocr(
    console: Console, *, smoke: bool, images: int | None = None, engines: Sequence[str] = ()
) -> Report:
    """``bench ocr`` prints its own tables and goals; here its verdict is one goal."""
    from app.bench.ocr import ENGINES, run_ocr_bench

    status = await run_ocr_bench(
        count=images or 40, engines=list(engines or ENGINES), console=console, smoke=smoke
    )
    report = Report("ocr", smoke)
    goals = "correctness goals" if smoke else "every goal"
    report.add(
        f"{goals} in bench ocr's own table", f"exit status {status}", status == 0, correctness=True
    )
    return report


async def scale(console: Console, *, smoke: bool, cases: int | None = None) -> Report:
    from app.bench.scale import run_scale_bench

    size = cases or (1 if smoke else 12)
    return await run_scale_bench(cases=size, rounds=1 if smoke else 2, console=console, smoke=smoke)


BENCHES: dict[str, Runner] = {
    "store": store,
    "booking": booking,
    "pay": pay,
    "wechat": wechat,
    "upload": upload,
    "precheck": precheck,
    "ocr": ocr,
    "scale": scale,
}


def run_one(
    name: str,
    console: Console,
    *,
    smoke: bool,
    benches: dict[str, Runner] = BENCHES,
    **sizes: Any,
) -> Report:
    """One bench in a loop of its own; a bench that breaks is a report with the goal it missed."""
    from app.logs import configure_logging

    configure_logging("WARNING", "console")  # a line per order, case or notice would drown it
    try:
        return asyncio.run(benches[name](console, smoke=smoke, **sizes))
    except Exception as exc:  # a broken bench is a finding, and the others still run
        console.print(traceback.format_exc(), markup=False, highlight=False)
        report = Report(name, smoke)
        failure = f"{type(exc).__name__}: {exc}"[:160]
        report.add("runs to the end", failure, False, correctness=True)
        return report


def run_all(console: Console, *, smoke: bool, benches: dict[str, Runner] = BENCHES) -> list[Report]:
    """Every bench in turn, then one table of every goal."""
    reports = []
    for name in benches:
        console.rule(f"bench {name}" + (" --smoke" if smoke else ""))
        reports.append(run_one(name, console, smoke=smoke, benches=benches))
        console.print(reports[-1].table())
    console.print(goal_table(reports, title="bench all" + (" --smoke" if smoke else "")))
    return reports
