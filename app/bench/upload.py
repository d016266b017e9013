"""``buchumen bench upload``: a 20 MB photo's peak RSS, and 50 × 5 MB uploads vs the bare store.

The real app (demo mode, a temporary data directory) is served in this process and the load
comes from a separate one, so the RSS is the server's own. The photos are noisy JPEGs with
GPS and orientation in their EXIF, as phones send them, made once per run in a child process.
The app runs without its background jobs: every upload queues an OCR pre-check, and reading
the photos in the OCR pool would take the cores the uploads are timed on (``bench ocr``
measures that path). Goal: a 20 MB upload grows the server's RSS by at most 16 MB.
"""

from __future__ import annotations

import asyncio
import gc
import io
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from app import keys
from app.domain.actors import Actor, Role
from app.main import create_app
from app.services.materials import MAX_MATERIAL_BYTES
from app.settings import load_settings

MB = 1024 * 1024
BIG_BYTES = MAX_MATERIAL_BYTES - 256 * 1024  # as large as the cap lets through
SMALL_BYTES = 5 * MB
UPLOADS = 50
CHUNK = 64 * 1024  # what the upload handler reads at a time
RSS_GOAL_MB = 16.0


def _make_photo(path: Path, target: int) -> None:
    """Child process: a noisy RGB JPEG of just under ``target`` bytes, GPS and orientation set."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825).update({1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 30.0)})

    def encode(width: int, height: int) -> bytes:
        bands = [Image.effect_noise((width, height), 64) for _ in range(3)]
        out = io.BytesIO()
        Image.merge("RGB", bands).save(out, "JPEG", quality=92, exif=exif.tobytes())
        return out.getvalue()

    per_pixel = len(encode(512, 512)) / (512 * 512)
    pixels = target * 0.995 / per_pixel
    while True:
        width = int((pixels * 4 / 3) ** 0.5)
        data = encode(width, width * 3 // 4)
        if len(data) <= target:
            path.write_bytes(data)
            return
        pixels *= target / len(data) * 0.995


def _load(base: str, token: str, photo: Path, count: int, out: Any) -> None:
    """Child process: open ``count`` cases, then PUT ``photo`` to each at once; report seconds."""

    data = photo.read_bytes()

    async def run() -> tuple[float, list[str]]:
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession(base, headers=headers) as http:
            async with http.get("/api/v1/matters", params={"target": "citizen"}) as r:
                matter = (await r.json())["items"][0]["code"]
            targets = []
            for _ in range(count):
                async with http.post("/api/v1/cases", json={"matter_code": matter}) as r:
                    case = await r.json()
                    targets.append(f"/api/v1/cases/{case['number']}/materials/{_slot(case)}")
            failures: list[str] = []

            async def put(path: str) -> None:
                async with http.put(path, data=data) as r:
                    if r.status != 200:
                        failures.append(f"{r.status} {await r.text()}")

            t0 = time.perf_counter()
            await asyncio.gather(*map(put, targets))
            return time.perf_counter() - t0, failures

    out.put(asyncio.run(run()))


def _slot(case: dict[str, Any]) -> str:
    return str(case["materials"][0]["slot_id"])


async def _drive(base: str, token: str, photo: Path, count: int) -> float:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_load, args=(base, token, photo, count, out))
    proc.start()
    elapsed, failures = await asyncio.to_thread(out.get)
    await asyncio.to_thread(proc.join)
    if failures:
        raise RuntimeError(f"{len(failures)} uploads failed, e.g. {failures[0]}")
    return float(elapsed)


async def _make_photos(tmp: Path) -> tuple[Path, Path]:
    big, small = tmp / "big.jpg", tmp / "small.jpg"
    ctx = multiprocessing.get_context("spawn")
    makers = [
        ctx.Process(target=_make_photo, args=a) for a in ((big, BIG_BYTES), (small, SMALL_BYTES))
    ]
    for maker in makers:
        maker.start()
    for maker in makers:
        await asyncio.to_thread(maker.join)
        if maker.exitcode:
            raise RuntimeError("making the bench photos failed")
    return big, small


def _rss() -> int:
    with open("/proc/self/status", "rb") as status:
        for line in status:
            if line.startswith(b"VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class _PeakRss:
    """This process's highest RSS while the block runs, sampled every millisecond."""

    def __init__(self) -> None:
        self.baseline = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, _rss())

    def __enter__(self) -> _PeakRss:
        gc.collect()
        self.baseline = self.peak = _rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / MB


async def _direct(app: web.Application, data: bytes, round_: int) -> float:
    """Seconds to put ``UPLOADS`` copies of ``data`` straight into the object store at once."""
    objects = app[keys.OBJECTS]

    async def chunks() -> AsyncIterator[bytes]:
        view = memoryview(data)
        for i in range(0, len(data), CHUNK):
            yield bytes(view[i : i + CHUNK])

    keys_ = [f"bench/direct/{round_}/{i}.jpg" for i in range(UPLOADS)]
    t0 = time.perf_counter()
    await asyncio.gather(
        *(
            objects.put(k, chunks(), content_type="image/jpeg", max_bytes=MAX_MATERIAL_BYTES)
            for k in keys_
        )
    )
    elapsed = time.perf_counter() - t0
    await asyncio.gather(*map(objects.delete, keys_))
    return elapsed


def _without_background_jobs(app: web.Application) -> None:
    kept = [c for c in app.cleanup_ctx if getattr(c, "__name__", "") != "background_ctx"]
    if len(kept) != len(app.cleanup_ctx) - 1:
        raise RuntimeError("create_app has no background_ctx any more: update bench upload")
    app.cleanup_ctx[:] = kept


async def run_upload_bench(*, rounds: int, console: Console) -> int:
    with tempfile.TemporaryDirectory(prefix="buchumen-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        with console.status("making the photos (noisy JPEGs, ~20 MB and 5 MB)…"):
            big, small = await _make_photos(tmp)
        settings = load_settings(
            {}, demo=True, data_dir=tmp / "data", log_level="WARNING", wechat_simulator_port=0
        )
        app = create_app(settings)
        _without_background_jobs(app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        token = app[keys.TOKENS].issue(Actor("demo-citizen", Role.APPLICANT))
        http_rates: list[float] = []
        direct_rates: list[float] = []
        size, big_size = small.stat().st_size, big.stat().st_size
        try:
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("warming up", total=2 + 2 * rounds)
                await _drive(base, token, small, 4)
                progress.advance(task)
                progress.update(task, description=f"one {big_size / MB:.1f} MB upload")
                with _PeakRss() as rss:
                    await _drive(base, token, big, 1)
                progress.advance(task)
                data = small.read_bytes()
                for n in range(rounds):
                    # Alternate which goes first, and start each from a disk with nothing
                    # left to write back: drift and writeback then hit both alike.
                    for way in ("http", "store") if n % 2 == 0 else ("store", "http"):
                        label = "by HTTP" if way == "http" else "straight to the store"
                        progress.update(task, description=f"round {n + 1}: {UPLOADS} {label}")
                        await asyncio.to_thread(os.sync)
                        if way == "http":
                            seconds = await _drive(base, token, small, UPLOADS)
                            http_rates.append(UPLOADS * size / MB / seconds)
                        else:
                            seconds = await _direct(app, data, n)
                            direct_rates.append(UPLOADS * size / MB / seconds)
                        progress.advance(task)
        finally:
            await runner.cleanup()
    return _report(big_size, rss, size, http_rates, direct_rates)


def _report(
    big: int, rss: _PeakRss, size: int, http_rates: list[float], direct_rates: list[float]
) -> int:
    ratios = [h / d for h, d in zip(http_rates, direct_rates, strict=True)]
    table = Table(title=f"bench upload ({len(ratios)} rounds of {UPLOADS} × {size / MB:.0f} MB)")
    for column in ("", "figure"):
        table.add_column(column, justify="right" if column else "left")
    table.add_row(f"{big / MB:.1f} MB upload: peak RSS growth", f"{rss.growth_mb:.1f} MB")
    table.add_row("uploads through HTTP (median)", f"{statistics.median(http_rates):,.0f} MB/s")
    table.add_row(
        "straight to the object store (median)", f"{statistics.median(direct_rates):,.0f} MB/s"
    )
    table.add_row("ratio HTTP / store (median)", f"{statistics.median(ratios):.2f}")
    Console().print(table)
    met = rss.growth_mb <= RSS_GOAL_MB
    Console().print(
        f"ratio per round: {', '.join(f'{r:.2f}' for r in ratios)}; server RSS before the big "
        f"upload {rss.baseline / MB:.0f} MB\n"
        f"goal (peak RSS growth <= {RSS_GOAL_MB:.0f} MB): {'met' if met else 'NOT met'}"
    )
    return 0 if met else 1
