"""``buchumen bench upload``: the web process's memory from upload to verdict, and upload speed.

The whole service runs in this process (demo mode, a temporary data directory, background jobs
on: every photo is pre-checked by the OCR workers), and the load comes from a separate one, so
the RSS measured is the web process's own. The photos are noisy JPEGs with GPS and orientation
in their EXIF, as phones send them, made once per run in a child process.

First one ~20 MB photo goes in, and the RSS is sampled every millisecond until its verdict is
kept: the web process streams the upload to the store and never holds the photo, since the OCR
worker fetches it by key. Then, round by round, 50 photos of 5 MB go up at once through
``PUT /api/v1/cases/{n}/materials/{slot}`` (authorise, sniff, strip location, store, attach,
queue the pre-check) against the same bytes written straight to the object store, and the
verdicts of the round are awaited before the next.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

from aiohttp import web
from PIL import Image
from rich.console import Console
from rich.table import Table

from app import keys
from app.bench.children import in_child, within
from app.bench.goals import Report
from app.bench.loaders import put_photos
from app.bench.rss import MB, PeakRss, children_peak
from app.bench.serving import serve
from app.domain.actors import SYSTEM, Actor, Role
from app.main import create_app
from app.services.cases import CaseService
from app.services.catalog import list_matters
from app.services.materials import MAX_MATERIAL_BYTES
from app.settings import load_settings

CITIZEN = Actor("demo-citizen", Role.APPLICANT)
CHUNK = 64 * 1024  # what the upload handler reads at a time
RSS_GOAL_MB = 16.0
VERDICT_WITHIN = 180.0  # seconds for a round's verdicts; the pool gives up on a photo sooner
BIG_SLOT, SMALL_SLOT = "id_card_front", "photo"  # a document read by the engine; a portrait


@dataclass(frozen=True)
class Size:
    big: int  # bytes of the photo whose memory is measured
    small: int  # bytes of each photo of the rounds
    uploads: int  # at once, each way, per round
    rounds: int

    def resized(self, *, rounds: int | None = None) -> Size:
        return replace(self, rounds=rounds or self.rounds)


FULL = Size(big=MAX_MATERIAL_BYTES - 256 * 1024, small=5 * MB, uploads=50, rounds=5)
SMOKE = Size(big=2 * MB, small=MB // 2, uploads=5, rounds=1)


def _make_photo(path: Path, target: int) -> None:
    """Child process: a noisy RGB JPEG of just under ``target`` bytes, GPS and orientation set."""
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


async def _make_photos(tmp: Path, size: Size) -> tuple[Path, Path]:
    big, small = tmp / "big.jpg", tmp / "small.jpg"
    ctx = multiprocessing.get_context("spawn")
    makers = [
        ctx.Process(target=_make_photo, args=a) for a in ((big, size.big), (small, size.small))
    ]
    for maker in makers:
        maker.start()
    for maker in makers:
        await asyncio.to_thread(maker.join, 300)
        if maker.exitcode != 0:
            maker.kill()
            raise RuntimeError("making the bench photos failed")
    return big, small


class _Service:
    """The served app as the bench drives it: cases to upload to, verdicts to wait for."""

    def __init__(self, app: web.Application, base: str, matter: str) -> None:
        self.app, self.base, self.matter = app, base, matter
        self.cases: CaseService = app[keys.CASES]
        self.token = app[keys.TOKENS].issue(CITIZEN)
        self.failures: list[str] = []
        self.sent = self.judged = 0

    async def upload(self, photo: Path, slot: str, count: int) -> tuple[list[str], float]:
        """``count`` fresh cases, ``photo`` PUT to each at once from the load process."""
        numbers = [(await self.cases.open(CITIZEN, self.matter)).number for _ in range(count)]
        paths = [f"/api/v1/cases/{n}/materials/{slot}" for n in numbers]
        seconds, failures = await in_child(
            put_photos, self.base, self.token, photo, paths, seconds=VERDICT_WITHIN
        )
        self.failures += failures
        self.sent += count
        return numbers, float(seconds)

    async def verdicts(self, numbers: list[str], slot: str) -> float:
        """Seconds until every case has its verdict on ``slot`` (bounded)."""
        t0 = time.perf_counter()
        await within(VERDICT_WITHIN, self._wait(numbers, slot), f"{len(numbers)} verdicts")
        return time.perf_counter() - t0

    async def _wait(self, numbers: list[str], slot: str) -> None:
        pending = set(numbers)
        while pending:
            for number in list(pending):
                if slot in (await self.cases.get(SYSTEM, number)).prechecks:
                    pending.discard(number)
                    self.judged += 1
            await asyncio.sleep(0.05)

    async def location_left(self, number: str, slot: str) -> list[str]:
        """The stored photo's EXIF still carrying GPS, read from its first bytes only."""
        ref = (await self.cases.get(SYSTEM, number)).materials[slot]
        head = b""
        async for chunk in self.app[keys.OBJECTS].get(ref.object_key):
            head += chunk
            if len(head) >= 256 * 1024:
                break
        gps = Image.open(io.BytesIO(head)).getexif().get_ifd(0x8825)
        return [f"{number}: GPS {dict(gps)}"] if gps else []


async def _matter(app: web.Application) -> str:
    """A citizen matter with both slots the bench fills, that the demo citizen may open."""
    for m in await list_matters(app[keys.DOCUMENTS]):
        slots = {s.id for s in m.materials}
        if "citizen" in m.targets and {BIG_SLOT, SMALL_SLOT} <= slots:
            try:
                await app[keys.CASES].open(CITIZEN, m.code)
            except Exception:  # noqa: S112 - a condition the demo citizen does not meet
                continue
            return m.code
    raise RuntimeError(f"no demo matter has both a {BIG_SLOT} and a {SMALL_SLOT} slot")


async def _direct(app: web.Application, data: bytes, count: int, round_: int) -> float:
    """Seconds to put ``count`` copies of ``data`` straight into the object store at once."""
    objects = app[keys.OBJECTS]

    async def chunks() -> AsyncIterator[bytes]:
        view = memoryview(data)
        for i in range(0, len(data), CHUNK):
            yield bytes(view[i : i + CHUNK])

    names = [f"bench/direct/{round_}/{i}.jpg" for i in range(count)]
    t0 = time.perf_counter()
    puts = (
        objects.put(k, chunks(), content_type="image/jpeg", max_bytes=MAX_MATERIAL_BYTES)
        for k in names
    )
    await asyncio.gather(*puts)
    elapsed = time.perf_counter() - t0
    await asyncio.gather(*map(objects.delete, names))
    return elapsed


async def run_upload_bench(size: Size, *, console: Console, smoke: bool = False) -> Report:
    report = Report("upload", smoke)
    with tempfile.TemporaryDirectory(prefix="buchumen-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        with console.status("making the photos (noisy JPEGs with GPS in their EXIF)…"):
            big, small = await _make_photos(tmp, size)
        big_bytes, data = big.stat().st_size, small.read_bytes()
        settings = load_settings(
            {}, demo=True, data_dir=tmp / "data", log_level="WARNING", wechat_simulator_port=0
        )
        app = create_app(settings)
        runner, base = await serve(app)
        try:
            await app[keys.PRECHECKER].warm_up()  # bounded by the pool's timeout
            service = _Service(app, base, await _matter(app))
            numbers, _ = await service.upload(small, SMALL_SLOT, 2)  # the whole path once
            await service.verdicts(numbers, SMALL_SLOT)
            with PeakRss() as memory:
                [number], _ = await service.upload(big, BIG_SLOT, 1)
                big_verdict = await service.verdicts([number], BIG_SLOT)
            worker_peak = children_peak()
            leaks = await service.location_left(number, BIG_SLOT)
            rates = await _rounds(app, service, small, data, size, console)
        finally:
            await runner.cleanup()
    report.check("every upload answered 200", service.failures, service.sent)
    missing = [f"{service.sent - service.judged} without"] if service.judged < service.sent else []
    report.check(f"every photo's verdict kept within {VERDICT_WITHIN:.0f} s", missing, service.sent)
    report.check("the stored photo carries no location (GPS)", leaks, 1)
    _figures(report, console, size, big_bytes, memory, big_verdict, worker_peak, rates)
    return report


async def _rounds(
    app: web.Application,
    service: _Service,
    photo: Path,
    data: bytes,
    size: Size,
    console: Console,
) -> dict[str, list[float]]:
    """MB/s by HTTP and straight to the store, alternating; the verdicts awaited each round."""
    rates: dict[str, list[float]] = {"http": [], "store": [], "verdicts": []}
    megabytes = size.uploads * len(data) / MB
    for n in range(size.rounds):
        # Which goes first alternates, each from a disk with nothing left to write back.
        for way in ("http", "store") if n % 2 == 0 else ("store", "http"):
            await asyncio.to_thread(os.sync)
            if way == "http":
                numbers, seconds = await service.upload(photo, SMALL_SLOT, size.uploads)
                rates["verdicts"].append(await service.verdicts(numbers, SMALL_SLOT))
            else:
                seconds = await _direct(app, data, size.uploads, n)
            rates[way].append(megabytes / seconds)
        console.print(
            f"round {n + 1}: {rates['http'][-1]:,.0f} MB/s by HTTP, "
            f"{rates['store'][-1]:,.0f} MB/s to the store"
        )
    return rates


def _figures(
    report: Report,
    console: Console,
    size: Size,
    big: int,
    memory: PeakRss,
    big_verdict: float,
    worker_peak: int,
    rates: dict[str, list[float]],
) -> None:
    ratios = [h / d for h, d in zip(rates["http"], rates["store"], strict=True)]
    table = Table(
        title=f"bench upload ({size.rounds} rounds of {size.uploads} × "
        f"{size.small / MB:.1f} MB, background jobs on)"
    )
    for column in ("", "figure"):
        table.add_column(column, justify="right" if column else "left")
    table.add_row(f"{big / MB:.1f} MB photo: upload -> verdict", f"{big_verdict:.1f} s")
    table.add_row("… web process RSS before", f"{memory.baseline / MB:.0f} MB")
    table.add_row("… web process peak RSS growth", f"{memory.growth_mb:.1f} MB")
    table.add_row("… web process RSS growth kept after", f"{memory.kept_mb:.1f} MB")
    table.add_row("OCR worker peak RSS (VmHWM)", f"{worker_peak / MB:.0f} MB")
    table.add_row("uploads through HTTP (median)", f"{statistics.median(rates['http']):,.0f} MB/s")
    table.add_row(
        "straight to the store (median)", f"{statistics.median(rates['store']):,.0f} MB/s"
    )
    table.add_row("ratio HTTP / store (median)", f"{statistics.median(ratios):.2f}")
    table.add_row(
        f"{size.uploads} verdicts after the uploads (median)",
        f"{statistics.median(rates['verdicts']):.1f} s",
    )
    console.print(table)
    growth = memory.growth_mb
    report.add(
        f"web process RSS growth, {big / MB:.0f} MB upload -> verdict: ≤ {RSS_GOAL_MB:g} MB",
        f"{growth:.1f} MB",
        growth <= RSS_GOAL_MB,
    )
