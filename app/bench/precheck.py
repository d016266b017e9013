"""``buchumen bench ocr``, second part: photo -> verdict through the real service path.

The same phone photos are timed twice: the engine alone in a worker (raw), and through the
whole service as an applicant meets it (HTTP upload, object store, outbox job, OCR pool,
verdict kept on the case). The goal is a ratio: the service may add at most 30 % to the
engine's own time. A second run uploads four photos at once and measures how late the event
loop wakes (lag) while they are read: the loop must keep serving everyone else. Every photo
must get its verdict within VERDICT_WITHIN seconds, at any size.
"""

from __future__ import annotations

import asyncio
import functools
import io
import random
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from app import keys
from app.bench.children import within
from app.bench.figures import pct
from app.bench.goals import Report
from app.domain.actors import SYSTEM, Actor, Role
from app.main import create_app
from app.services.cases import CaseService
from app.settings import load_settings
from ocr.corpus import generate
from ocr.degrade import degrade
from ocr.intake import load_image
from ocr.pool import OcrPool
from ocr.precheck import engine_named, limit_threads, warm_up, worker_threads

SLOT = "id_card_front"
TICK = 0.005  # the lag probe's sleep; its oversleep is the loop's lag
VERDICT_WITHIN = 120.0  # seconds from upload; the pool gives up on a photo long before
RATIO_GOAL = 1.3
LAG_P99_GOAL_MS = 20.0


def raw_recognize(engine: str, data: bytes) -> float:
    """Worker: the engine's own seconds on the photo, as decoded for OCR."""
    image = load_image(data).image
    t0 = time.perf_counter()
    engine_named(engine).recognize(image)
    return time.perf_counter() - t0


def _photos(count: int) -> list[bytes]:
    """Degraded ID card photos as a phone sends them (JPEG)."""
    rng = random.Random(7)  # noqa: S311 - reproducible degradations, not security
    out = []
    for sample in generate(2027, count, kinds=("id_card_front",)):
        buffer = io.BytesIO()
        degrade(sample.image, rng, level="degraded").save(buffer, "JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


async def run_precheck_bench(
    *, count: int, engine: str, console: Console, smoke: bool = False
) -> Report:
    photos = _photos(count)
    # The ratio is a figure: a smoke run only checks that every verdict comes.
    raw = [] if smoke else await _engine_alone(photos, engine, console)
    with tempfile.TemporaryDirectory(prefix="buchumen-bench-") as tmp:
        settings = load_settings(
            {},
            demo=True,
            data_dir=Path(tmp),
            log_level="WARNING",
            wechat_simulator_port=0,
            ocr_engine=engine,
        )
        app = create_app(settings, warm_ocr=True)
        runner = aiohttp.web.AppRunner(app, access_log=None)
        await runner.setup()
        site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}/api/v1"
        try:
            await app[keys.PRECHECKER].warm_up()  # bounded by the pool's timeout
            token = app[keys.TOKENS].issue(Actor("demo-citizen", Role.APPLICANT))
            headers = {"Authorization": f"Bearer {token}"}
            timeout = aiohttp.ClientTimeout(total=60)
            async with aiohttp.ClientSession(headers=headers, timeout=timeout) as http:
                path = _Path(http, base, app[keys.CASES])
                await path.verdicts(photos[:2])  # both workers have read a photo once
                served = []
                with Progress(console=console, transient=True) as progress:
                    task = progress.add_task(f"{engine}: photo -> verdict", total=len(photos))
                    for data in photos:
                        served += await path.verdicts([data])
                        progress.advance(task)
                lags, together = await path.lag_while(photos[:4])
        finally:
            await runner.cleanup()
    report = Report("precheck", smoke)
    missing = (
        [f"{path.sent - path.judged} photos without a verdict"] if path.judged < path.sent else []
    )
    report.check(f"every photo's verdict kept within {VERDICT_WITHIN:.0f} s", missing, path.sent)
    _report(engine, raw, served, lags, together, console, report)
    return report


async def _engine_alone(photos: list[bytes], engine: str, console: Console) -> list[float]:
    """The engine's seconds per photo, with the thread budget each of the service's two
    workers gets."""
    budget = functools.partial(limit_threads, worker_threads(2))
    pool = OcrPool(workers=1, timeout=120, initializer=budget)
    try:
        await pool.run(warm_up, engine)
        raw = []
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"{engine}: engine alone", total=len(photos))
            for data in photos:
                raw.append(await pool.run(raw_recognize, engine, data))  # bounded by the pool
                progress.advance(task)
        return raw
    finally:
        pool.close()


class _Path:
    """Drives the service as an applicant's phone does, and watches the case for the verdict."""

    def __init__(self, http: aiohttp.ClientSession, base: str, cases: CaseService) -> None:
        self._http, self._base, self._cases = http, base, cases
        self.sent = self.judged = 0
        self._matter = _matter()  # parsed once: not inside the timed and lag-probed phases

    async def verdicts(self, photos: list[bytes]) -> list[float]:
        """Upload each photo to a new case at once; the seconds until each verdict is kept."""
        numbers = [await self._open() for _ in photos]
        self.sent += len(photos)
        return list(await asyncio.gather(*map(self._one, numbers, photos)))

    async def _open(self) -> str:
        async with self._http.post(f"{self._base}/cases", json={"matter_code": self._matter}) as r:
            body = await r.json()
            if r.status != 201:
                raise RuntimeError(f"opening a case failed: {body}")
            return str(body["number"])

    async def _one(self, number: str, data: bytes) -> float:
        t0 = time.perf_counter()
        async with self._http.put(f"{self._base}/cases/{number}/materials/{SLOT}", data=data) as r:
            if r.status != 200:
                raise RuntimeError(f"upload failed: {await r.text()}")
        await within(VERDICT_WITHIN, self._verdict(number), f"the verdict on case {number}")
        return time.perf_counter() - t0

    async def _verdict(self, number: str) -> None:
        while True:
            if SLOT in (await self._cases.get(SYSTEM, number)).prechecks:
                self.judged += 1
                return
            await asyncio.sleep(0.01)

    async def lag_while(self, photos: list[bytes]) -> tuple[list[float], float]:
        """Event-loop lag (ms) sampled while ``photos`` are uploaded and read at once."""
        lags: list[float] = []
        done = asyncio.Event()

        async def probe() -> None:
            while not done.is_set():
                t0 = time.perf_counter()
                await asyncio.sleep(TICK)
                lags.append(max(0.0, (time.perf_counter() - t0 - TICK) * 1000))

        prober = asyncio.create_task(probe())
        t0 = time.perf_counter()
        await self.verdicts(photos)
        together = time.perf_counter() - t0
        done.set()
        await prober
        return lags, together


def _matter() -> str:
    from app.services.catalog import load_catalog
    from app.settings import Settings

    for matter in load_catalog([Settings.model_fields["catalog_dir"].default]):
        if any(m.id == SLOT for m in matter.materials) and "citizen" in matter.targets:
            return matter.code
    raise RuntimeError(f"no demo matter has a {SLOT} slot")


def _report(
    engine: str,
    raw: list[float],
    served: list[float],
    lags: list[float],
    together: float,
    console: Console,
    report: Report,
) -> None:
    table = Table(title=f"{engine} · photo -> verdict through the service · {len(served)} photos")
    for column in ("", "median s", "p95 s"):
        table.add_column(column, justify="left" if not column else "right")
    table.add_row("photo -> verdict", f"{statistics.median(served):.2f}", f"{pct(served, 95):.2f}")
    ratio = float("nan")
    if raw:
        ratios = [s / r for s, r in zip(served, raw, strict=True)]
        ratio = statistics.median(ratios)
        table.add_row("engine alone", f"{statistics.median(raw):.2f}", f"{pct(raw, 95):.2f}")
        table.add_row("ratio per photo", f"{ratio:.2f}", f"{pct(ratios, 95):.2f}")
    console.print(table)
    lag_p99 = pct(lags, 99)
    console.print(
        f"{min(4, len(served))} photos at once: all verdicts in {together:.2f} s; event-loop lag "
        f"p50 {pct(lags, 50):.1f} ms, p99 {lag_p99:.1f} ms, max {max(lags):.1f} ms "
        f"({len(lags)} samples)"
    )
    report.add(
        f"photo -> verdict ≤ {RATIO_GOAL:g} × the engine alone (median)",
        f"{ratio:.2f} ×" if raw else "engine alone not run",
        ratio <= RATIO_GOAL,
    )
    report.add(
        f"event-loop lag p99 ≤ {LAG_P99_GOAL_MS:g} ms, photos read at once",
        f"{lag_p99:.1f} ms",
        lag_p99 <= LAG_P99_GOAL_MS,
    )
