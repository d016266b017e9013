"""``buchumen bench ocr``: field accuracy and speed of each OCR engine on the synthetic corpus."""

from __future__ import annotations

import asyncio
import io
import random
import resource
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date

from PIL import Image
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from app.bench import percentile
from ocr.corpus import Sample, generate
from ocr.degrade import degrade
from ocr.engine import Line, OcrEngine
from ocr.fields import (
    extract_business_licence,
    extract_certificate,
    extract_id_back,
    extract_id_front,
)
from ocr.layout import rows
from ocr.pool import OcrPool
from ocr.rapid import RapidOcrEngine
from ocr.tesseract import TesseractEngine

ENGINES: dict[str, Callable[[], OcrEngine]] = {
    "rapidocr": RapidOcrEngine,
    "tesseract": TesseractEngine,
}
TODAY = date(2026, 11, 25)
# The field groups the goals name: ID number and USCC must be exact (wrong: never), names
# and dates nearly always.
GROUPS = {
    "id_number": "ID number",
    "uscc": "USCC",
    "name": "names",
    "holder_name": "names",
    "legal_representative": "names",
    "birth_date": "dates",
    "valid_from": "dates",
    "valid_to": "dates",
    "expiry_date": "dates",
}
WORKERS = 2
_engines: dict[str, OcrEngine] = {}  # one per worker process, models loaded once


def recognize_in_worker(engine: str, png: bytes) -> tuple[list[Line], float, int]:
    """Worker process: the engine's lines, its seconds, and the worker's peak RSS (KiB)."""
    if engine not in _engines:
        _engines[engine] = ENGINES[engine]()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    t0 = time.perf_counter()
    lines = _engines[engine].recognize(image)
    seconds = time.perf_counter() - t0
    return lines, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def extract(kind: str, lines: list[str]) -> dict[str, tuple[str | None, str]]:
    """The fields of a document of ``kind`` from its text rows (see ``ocr.layout.rows``)."""
    if kind == "id_card_front":
        return extract_id_front(lines, today=TODAY)
    if kind == "id_card_back":
        return extract_id_back(lines)
    if kind == "business_licence":
        return extract_business_licence(lines)
    return extract_certificate(lines)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def run_ocr_bench(*, count: int, engines: list[str], console: Console) -> int:
    samples: list[Sample] = list(generate(2026, count))
    rng = random.Random(11)  # noqa: S311 - reproducible degradations, not security
    sets = {
        "clean": [(s, _png(s.image)) for s in samples],
        "degraded": [(s, _png(degrade(s.image, rng, level="degraded"))) for s in samples],
    }
    tables = []
    for engine in engines:
        # Fresh workers: peak RSS is this engine's own.
        pool = OcrPool(workers=WORKERS, timeout=120)
        try:
            warm = sets["clean"][0][1]
            await asyncio.gather(
                *(pool.run(recognize_in_worker, engine, warm) for _ in range(WORKERS))
            )
            for level, items in sets.items():
                tables.append(await _measure(pool, engine, level, items, console))
        finally:
            pool.close()
    for table in tables:
        Console().print(table)
    return 0


async def _measure(
    pool: OcrPool, engine: str, level: str, items: list[tuple[Sample, bytes]], console: Console
) -> Table:
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    seconds: list[float] = []
    rss: list[int] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"{engine}, {level}", total=len(items))
        t0 = time.perf_counter()
        # The pool's timeout runs from submission: with every image queued at once, the last
        # ones would time out waiting. One image per worker in flight keeps it per image.
        slots = asyncio.Semaphore(WORKERS)

        async def one(sample: Sample, png: bytes) -> None:
            async with slots:
                lines, took, peak = await pool.run(recognize_in_worker, engine, png)
            seconds.append(took)
            rss.append(peak)
            read = extract(sample.kind, rows(lines))
            for field, truth in sample.truth.items():
                if field not in GROUPS or field not in read:
                    continue
                value, _ = read[field]
                verdict = "unreadable" if value is None else "exact" if value == truth else "wrong"
                outcomes[GROUPS[field]][verdict] += 1
            progress.advance(task)

        await asyncio.gather(*(one(s, png) for s, png in items))
        wall = time.perf_counter() - t0
    p95 = percentile(seconds, 0.95)
    table = Table(
        title=f"{engine} · {level} · {len(items)} images",
        caption=f"per image median {statistics.median(seconds):.2f} s, p95 {p95:.2f} s; "
        f"{len(items) / wall:.2f} photos/s with {WORKERS} workers; "
        f"peak RSS/worker {max(rss) / 1024:.0f} MB",
    )
    for column in ("field", "exact", "wrong", "unreadable"):
        table.add_column(column, justify="left" if column == "field" else "right")
    for group in ("ID number", "USCC", "names", "dates"):
        c = outcomes[group]
        total = sum(c.values()) or 1
        table.add_row(
            group, *(f"{100 * c[v] / total:.1f}%" for v in ("exact", "wrong", "unreadable"))
        )
    return table
