"""``buchumen bench ocr``, second part: photo -> verdict through the real service path.

The same phone photos are timed twice: the engine alone in a worker (raw), and through the
whole service as an applicant meets it (HTTP upload, object store, outbox job, OCR pool,
verdict kept on the case). The goal is a ratio: the service may add at most 30 % to the
engine's own time. A second run uploads four photos at once and measures how late the event
loop wakes (lag) while they are read: the loop must keep serving everyone else.
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
from app.bench.figures import pct
from app.domain.actors import Actor, Role
from app.main import create_app
from app.services.case_records import CASES
from app.settings import load_settings
from ocr.corpus import generate
from ocr.degrade import degrade
from ocr.intake import load_image
from ocr.pool import OcrPool
from ocr.precheck import engine_named, limit_threads, warm_up, worker_threads
from storage.documents import DocumentStore

SLOT = "id_card_front"
TICK = 0.005  # the lag probe's sleep; its oversleep is the loop's lag


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


async def run_precheck_bench(*, count: int, engine: str, console: Console) -> int:
    photos = _photos(count)
    # The engine alone with the thread budget each of the service's two workers gets.
    budget = functools.partial(limit_threads, worker_threads(2))
    pool = OcrPool(workers=1, timeout=120, initializer=budget)
    try:
        await pool.run(warm_up, engine)
        raw = []
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"{engine}: engine alone", total=len(photos))
            for data in photos:
                raw.append(await pool.run(raw_recognize, engine, data))
                progress.advance(task)
    finally:
        pool.close()
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
            await app[keys.PRECHECKER].warm_up()
            token = app[keys.TOKENS].issue(Actor("demo-citizen", Role.APPLICANT))
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
                path = _Path(http, base, app[keys.DOCUMENTS])
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
    return _report(engine, raw, served, lags, together)


class _Path:
    """Drives the service as an applicant's phone does, and watches the case for the verdict."""

    def __init__(self, http: aiohttp.ClientSession, base: str, store: DocumentStore) -> None:
        self._http, self._base, self._store = http, base, store
        self._matter = _matter()  # parsed once: not inside the timed and lag-probed phases

    async def verdicts(self, photos: list[bytes]) -> list[float]:
        """Upload each photo to a new case at once; the seconds until each verdict is kept."""
        numbers = [await self._open() for _ in photos]
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
        while True:
            doc = await self._store.get(CASES, number) or {}
            if SLOT in doc.get("prechecks", {}):
                return time.perf_counter() - t0
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
    engine: str, raw: list[float], served: list[float], lags: list[float], together: float
) -> int:
    ratios = [s / r for s, r in zip(served, raw, strict=True)]
    table = Table(title=f"{engine} · photo -> verdict through the service · {len(raw)} photos")
    for column in ("", "median s", "p95 s"):
        table.add_column(column, justify="left" if not column else "right")
    table.add_row("engine alone", f"{statistics.median(raw):.2f}", f"{pct(raw, 95):.2f}")
    table.add_row("photo -> verdict", f"{statistics.median(served):.2f}", f"{pct(served, 95):.2f}")
    table.add_row("ratio per photo", f"{statistics.median(ratios):.2f}", f"{pct(ratios, 95):.2f}")
    Console().print(table)
    lag_p99 = pct(lags, 99)
    ratio = statistics.median(ratios)
    met = ratio <= 1.3 and lag_p99 <= 20
    Console().print(
        f"4 photos at once: all verdicts in {together:.2f} s; event-loop lag p50 "
        f"{pct(lags, 50):.1f} ms, p99 {lag_p99:.1f} ms, max {max(lags):.1f} ms "
        f"({len(lags)} samples)\n"
        f"goals (median ratio <= 1.3, loop lag p99 <= 20 ms): {'met' if met else 'NOT met'}"
    )
    return 0 if met else 1
