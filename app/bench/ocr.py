"""``buchumen bench ocr``: the pre-check's verdicts on photos taken as people take them.

Each photo goes through ``ocr.precheck.precheck``, the function the service runs in its OCR
workers (intake, quality, engine, kind, fields, rules), so what is counted is what an applicant
meets: a retake asked for, a field read right or wrong, a problem caught or missed. Genuine
sets (on a desk, in a hand, on white paper, with glare or a shadow; sent by WeChat at 1,280
and 800 px) should pass; each catch set must raise its finding. The goals are printed with
met / NOT met, and the command exits non-zero when one is missed.
"""

from __future__ import annotations

import asyncio
import functools
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from app.bench.figures import pct
from ocr.corpus.sets import CATCHES, CONDITIONS, Shot, catch_shot, genuine_shot
from ocr.pool import OcrPool
from ocr.precheck import DEFAULT_ENGINE, limit_threads, precheck, warm_up, worker_threads
from ocr.precheck import ENGINES as KNOWN
from ocr.rules import FIX, PASS, Verdict

ENGINES = (DEFAULT_ENGINE,)  # what runs without --engines; any of ocr.precheck.ENGINES may
SEED = 2026
SIZES = (1280, 800)
WORKERS = 2
# Field -> the group the goals name. Certificate numbers are mostly ID numbers (a driving
# licence's 证号 is its holder's), but not guarded by a check character on every certificate.
GROUPS = {
    "id_number": "ID number / USCC",
    "uscc": "ID number / USCC",
    "certificate_number": "certificate no.",
    "name": "names",
    "holder_name": "names",
    "legal_representative": "names",
    "company_name": "names",
    "birth_date": "dates",
    "valid_from": "dates",
    "valid_to": "dates",
    "expiry_date": "dates",
}
RETAKE_CODES = {"BLURRY", "CUT_OFF"}


@dataclass(frozen=True)
class Outcome:
    """One photo's verdict next to what it should have been."""

    group: str  # the set: "desk @ 1280", "expired"…
    size: int
    layout: str
    must: str | None
    verdict: Verdict
    truth: dict[str, str]
    spoiled: str = ""  # blurred or cut off, in the set of both

    def caught(self) -> bool:
        codes = {f.code for f in self.verdict.findings}
        if self.must == "RETAKE":
            return self.verdict.status == FIX and bool(codes & RETAKE_CODES)
        return self.must in codes


def judge_shot(engine: str, spec: tuple[str, int, str, int]) -> tuple[Shot, Verdict]:
    """Worker: draw the photo ``spec`` names and judge it as the service does."""
    family, index, name, size = spec
    shot = (genuine_shot if family == "genuine" else catch_shot)(SEED, index, name, size)
    return shot, precheck(engine, shot.data, shot.expect)


def _specs(count: int, smoke: bool) -> list[tuple[str, int, str, int]]:
    if smoke:  # one photo of each layout, sizes and conditions in turn
        return [("genuine", i, CONDITIONS[i % 4], SIZES[i % 2]) for i in range(count)]
    specs = [
        ("genuine", i, condition, size)
        for size in SIZES
        for condition in CONDITIONS
        for i in range(count)
    ]
    return specs + [("catch", i, catch, 1280) for catch in CATCHES for i in range(count)]


async def run_ocr_bench(
    *, count: int, engines: list[str], console: Console, smoke: bool = False
) -> int:
    """Judge the sets with each engine, print the figures and goals; 1 if a goal is missed."""
    status = 0
    for engine in engines:
        if engine not in KNOWN:
            raise ValueError(f"unknown OCR engine {engine!r}; known: {', '.join(KNOWN)}")
        specs = _specs(9 if smoke else count, smoke)
        outcomes, seconds, wall = await _run(engine, specs, console)
        report = Report(engine, outcomes)
        for table in (report.sets(), report.fields()):
            Console().print(table)
        Console().print(
            f"{engine}: {len(outcomes)} photos in {wall:.0f} s with {WORKERS} workers; engine "
            f"median {statistics.median(seconds):.2f} s, p95 {pct(seconds, 95):.2f} s"
        )
        status |= report.goals(smoke=smoke)
    return status


async def _run(
    engine: str, specs: list[tuple[str, int, str, int]], console: Console
) -> tuple[list[Outcome], list[float], float]:
    pool = OcrPool(
        WORKERS,
        timeout=300,
        initializer=functools.partial(limit_threads, worker_threads(WORKERS)),
    )
    outcomes: list[Outcome] = []
    try:
        await asyncio.gather(*(pool.run(warm_up, engine) for _ in range(WORKERS)))
        t0 = time.perf_counter()
        # One photo per worker in flight: the pool's timeout runs from submission.
        slots = asyncio.Semaphore(WORKERS)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"{engine}: photo -> verdict", total=len(specs))

            async def one(spec: tuple[str, int, str, int]) -> None:
                async with slots:
                    shot, verdict = await pool.run(judge_shot, engine, spec)
                family, _, name, size = spec
                group = f"{name} @ {size}" if family == "genuine" else name
                outcomes.append(
                    Outcome(group, size, shot.layout, shot.must, verdict, shot.truth, shot.spoiled)
                )
                progress.advance(task)

            await asyncio.gather(*map(one, specs))
        wall = time.perf_counter() - t0
    finally:
        pool.close()
    seconds = [o.verdict.engine_seconds for o in outcomes if o.verdict.engine_seconds]
    return outcomes, seconds or [0.0], wall


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


class Report:
    """The figures of one engine's run: per set, per field, and the goals."""

    def __init__(self, engine: str, outcomes: list[Outcome]) -> None:
        self.engine = engine
        self.genuine = [o for o in outcomes if o.must is None]
        self.catches = [o for o in outcomes if o.must is not None]
        # (field or group, size) -> exact / wrong / unread counts, over every photo read.
        self.reads: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
        for o in outcomes:
            if o.must in ("WRONG_KIND", "RETAKE"):
                continue  # not what the slot reads, or spoiled on purpose: nothing to read
            for field, truth in o.truth.items():
                if field not in GROUPS:
                    continue
                value = o.verdict.fields.get(field)
                verdict = "unread" if value is None else "exact" if value == truth else "wrong"
                self.reads[(field, o.size)][verdict] += 1
                self.reads[(GROUPS[field], o.size)][verdict] += 1

    def sets(self) -> Table:
        table = Table(title=f"{self.engine} · pre-check verdicts per set")
        for column in ("set", "photos", "retake asked", "to a person", "passed", "caught"):
            table.add_column(column, justify="left" if column == "set" else "right")
        by_set: dict[str, list[Outcome]] = defaultdict(list)
        for o in self.genuine + self.catches:
            by_set[o.group].append(o)
        for o in self.catches:
            if o.spoiled:  # each half of a mixed set on its own row too
                by_set[f"… {o.spoiled}"].append(o)
        for name, items in by_set.items():
            status = Counter(o.verdict.status for o in items)
            caught = sum(o.caught() for o in items) if items[0].must else None
            table.add_row(
                name,
                str(len(items)),
                _share(status[FIX], len(items)),
                _share(status["review"], len(items)),
                _share(status[PASS], len(items)),
                "" if caught is None else _share(caught, len(items)),
            )
        return table

    def fields(self) -> Table:
        table = Table(title=f"{self.engine} · fields read (exact / wrong / unread)")
        table.add_column("field")
        sizes = sorted({size for _, size in self.reads}, reverse=True)
        for size in sizes:
            table.add_column(f"{size} px", justify="right")
        names = dict.fromkeys([*dict.fromkeys(GROUPS.values()), *GROUPS])
        for name in names:
            cells = []
            for size in sizes:
                c = self.reads.get((name, size))
                total = sum(c.values()) if c else 0
                cells.append(
                    f"{_share(c['exact'], total)} / {_share(c['wrong'], total)} / "
                    f"{_share(c['unread'], total)} of {total}"
                    if c
                    else "-"
                )
            if any(cell != "-" for cell in cells):
                table.add_row(name, *cells)
        return table

    def _rate(self, group: str, verdict: str, sizes: Iterable[int]) -> tuple[int, int]:
        counts = [self.reads.get((group, size), Counter()) for size in sizes]
        return sum(c[verdict] for c in counts), sum(sum(c.values()) for c in counts)

    def goals(self, *, smoke: bool) -> int:
        """Print each goal with met / NOT met; 1 when one is missed (smoke: correctness only)."""
        rows: list[tuple[str, str, bool]] = []
        wrong, read = self._rate("ID number / USCC", "wrong", SIZES)
        rows.append(("ID number / USCC wrong, every size: 0", f"{wrong} of {read}", wrong == 0))
        if not smoke:
            retakes = sum(o.verdict.status == FIX for o in self.genuine)
            share = retakes / max(len(self.genuine), 1)
            rows.append(
                ("retake asked, genuine photos: ≤ 2 %", f"{100 * share:.1f}%", share <= 0.02)
            )
            for size, floor in ((1280, 0.995), (800, 0.97)):
                exact, total = self._rate("ID number / USCC", "exact", [size])
                share = exact / max(total, 1)
                rows.append(
                    (
                        f"ID number / USCC exact at {size} px: ≥ {100 * floor:g} %",
                        f"{100 * share:.1f}%",
                        share >= floor,
                    )
                )
            exact, total = self._rate("names", "exact", [1280])
            share = exact / max(total, 1)
            rows.append(("names exact at 1280 px: ≥ 97 %", f"{100 * share:.1f}%", share >= 0.97))
            wrong, total = self._rate("names", "wrong", SIZES)
            share = wrong / max(total, 1)
            rows.append(("names wrong: ≤ 0.5 %", f"{100 * share:.1f}%", share <= 0.005))
            for catch, _ in CATCHES.items():
                items = [o for o in self.catches if o.group == catch]
                share = sum(o.caught() for o in items) / max(len(items), 1)
                rows.append(
                    (
                        f"{catch.replace('_', ' ')} caught: ≥ 95 %",
                        f"{100 * share:.1f}%",
                        share >= 0.95,
                    )
                )
        table = Table(
            title=f"{self.engine} · goals" + (" (smoke: correctness only)" if smoke else "")
        )
        for column in ("goal", "measured", ""):
            table.add_column(column, justify="left" if column == "goal" else "right")
        for goal, measured, met in rows:
            table.add_row(goal, measured, "met" if met else "NOT met")
        Console().print(table)
        return 0 if all(met for _, _, met in rows) else 1
