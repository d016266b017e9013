"""``buchumen bench scale``: photos judged per second by one and by two ``buchumen worker``
processes behind one web-only ``serve`` (``BUCHUMEN_OCR_IN_WEB=false``), and the ratio.

Each run starts its own fleet on a fresh data directory (app/bench/fleet.py), every worker with
an OCR pool of one and pinned to a core of its own, as if each had a machine (the web instance
and the load use any core). Once each worker has judged a case (its models loaded; not at smoke
size, which checks only that every photo is judged), ``cases`` cases of four photos are uploaded
at once through the web instance, as applicants' phones would, and the clock stops when the
last photo's verdict is kept on its case: photos/s is the photos over that time, cases/s the
cases fully judged over it. One and two workers take turns, ``rounds`` times each, and each
keeps its best run: other work on a shared machine only ever slows a run down. Every wait is
bounded.

The ratio is only as good as the cores: with two, the second worker's core is also the one the
web instance and the load run on.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from rich.console import Console
from rich.table import Table

from app.bench.children import within
from app.bench.fleet import Fleet
from app.bench.goals import Report
from app.bench.precheck import _photos

MATTER = "11350100MB0319679L-JF-00101"  # 失业保险金申领: free, four photos to send
APPLICANT = "demo-citizen"
START_WITHIN = 120.0  # a fleet's processes: stores, demo data, OCR models
VERDICTS_WITHIN = 300.0  # every verdict of a run, from the first upload
RATIO_GOAL = 1.4  # two workers judge at least 1.4 × as many photos a second as one
RATE_GOAL = 1.0  # photos/s one worker (one OCR process) keeps up at least


@dataclass(frozen=True)
class Run:
    workers: int
    photos: int
    cases: int
    seconds: float
    judged: int

    @property
    def photos_per_second(self) -> float:
        return self.judged / self.seconds

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.seconds


async def run_scale_bench(
    *, cases: int, rounds: int, console: Console, smoke: bool = False
) -> Report:
    photos = _photos(4)
    runs: list[Run] = []
    for turn in range(rounds):
        for workers in (1, 2):
            console.print(
                f"round {turn + 1}/{rounds}, {workers} worker(s): {cases} cases of 4 photos"
            )
            runs.append(await _run(workers, cases, photos, warm=not smoke))
    return _report(runs, console, smoke)


async def _run(workers: int, cases: int, photos: list[bytes], *, warm: bool) -> Run:
    timeout = aiohttp.ClientTimeout(total=60)
    with (
        tempfile.TemporaryDirectory(prefix="buchumen-bench-scale-") as tmp,
        Fleet(Path(tmp) / "var", webs=1, workers=workers, log_level="WARNING", pin=True) as fleet,
    ):
        async with aiohttp.ClientSession(timeout=timeout) as http:
            await within(START_WITHIN, fleet.ready(http), f"a fleet of {workers} worker(s)")
            phone = await Phone.signed_in(http, fleet.webs[0].base)
            if warm:  # each worker's OCR models loaded: a case each, judged, before the clock
                first = [await phone.open() for _ in range(workers)]
                await asyncio.gather(*(phone.upload(n, photos) for n in first))
                await within(START_WITHIN, phone.judged(first, len(photos)), "the warm-up")
            numbers = [await phone.open() for _ in range(cases)]
            t0 = time.perf_counter()
            await asyncio.gather(*(phone.upload(n, photos) for n in numbers))
            wait = phone.judged(numbers, len(photos))
            judged = await within(VERDICTS_WITHIN, wait, f"{workers} worker(s)' verdicts")
            seconds = time.perf_counter() - t0
    return Run(workers, len(numbers) * len(photos), len(numbers), seconds, judged)


class Phone:
    """An applicant's phone on the API: opens cases, sends photos, watches for verdicts."""

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str) -> None:
        self._http, self._api = http, f"{base}/api/v1"
        self._auth = {"Authorization": f"Bearer {token}"}

    @classmethod
    async def signed_in(cls, http: aiohttp.ClientSession, base: str) -> Phone:
        async with http.get(f"{base}/api/v1/demo/tokens") as resp:
            tokens = {i["username"]: i["token"] for i in (await resp.json())["items"]}
        return cls(http, base, tokens[APPLICANT])

    async def _call(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        headers = self._auth | kw.pop("headers", {})
        async with self._http.request(method, self._api + path, headers=headers, **kw) as resp:
            body: dict[str, Any] = await resp.json()
            if resp.status not in (200, 201):
                raise RuntimeError(f"{method} {path}: {resp.status} {body}")
            return body

    async def open(self) -> str:
        return str((await self._call("POST", "/cases", json={"matter_code": MATTER}))["number"])

    async def upload(self, number: str, photos: list[bytes]) -> None:
        case = await self._call("GET", f"/cases/{number}")
        slots = [m["slot_id"] for m in case["materials"] if m["required"]]
        for slot, data in zip(slots, photos, strict=True):
            kw = {"data": data, "headers": {"Content-Type": "image/jpeg"}}
            await self._call("PUT", f"/cases/{number}/materials/{slot}", **kw)

    async def judged(self, numbers: list[str], each: int) -> int:
        """Poll until every photo of ``numbers`` has its verdict; how many were judged."""
        waiting, judged = list(numbers), 0
        while waiting:
            case = await self._call("GET", f"/cases/{waiting[0]}")
            if sum(bool(m["precheck"]) for m in case["materials"]) >= each:
                waiting.pop(0)
                judged += each
            else:
                await asyncio.sleep(0.1)
        return judged


def _report(runs: list[Run], console: Console, smoke: bool) -> Report:
    table = Table(title=f"bench scale · web-only serve + OCR workers · {os.cpu_count()} cores")
    for column in ("workers", "photos", "seconds", "photos/s", "cases/s"):
        table.add_column(column, justify="right")
    for run in runs:
        table.add_row(
            str(run.workers),
            str(run.photos),
            f"{run.seconds:.1f}",
            f"{run.photos_per_second:.2f}",
            f"{run.cases_per_second:.2f}",
        )
    console.print(table)
    one, two = (
        max((r for r in runs if r.workers == n), key=lambda r: r.photos_per_second) for n in (1, 2)
    )
    ratio = two.photos_per_second / one.photos_per_second
    console.print(
        f"best of each: 1 worker {one.photos_per_second:.2f} photos/s, 2 workers "
        f"{two.photos_per_second:.2f} photos/s; 2 workers / 1 worker: {ratio:.2f} ×"
    )
    report = Report("scale", smoke)
    wrong = [
        f"{r.workers} worker(s): {r.photos - r.judged} unjudged"
        for r in runs
        if r.judged < r.photos
    ]
    report.check(
        f"every photo judged by the workers within {VERDICTS_WITHIN:.0f} s",
        wrong,
        sum(r.photos for r in runs),
    )
    report.add(f"1 worker ≥ {RATE_GOAL:g} photos/s", f"{one.photos_per_second:.2f}/s",
               one.photos_per_second >= RATE_GOAL)  # fmt: skip
    report.add(f"2 workers ≥ {RATIO_GOAL:g} × 1 worker", f"{ratio:.2f} ×", ratio >= RATIO_GOAL)
    return report
