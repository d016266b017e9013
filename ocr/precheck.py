"""One photo in, one verdict out: intake, quality, recognition, reading and rules, in a worker.

``precheck`` is what the service submits to the OCR process pool. Everything CPU-heavy (decoding,
quality statistics, the engine) runs here, and the worker reads the photo from the object store
itself (``Prechecker``), so the event loop only ships a key and a verdict.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import os
import time
from collections.abc import Callable, Mapping
from datetime import date

from PIL import Image

from ocr.classify import KIND_OF, identify
from ocr.engine import Line, OcrEngine
from ocr.errors import OcrError, UnreadableImage
from ocr.fields import (
    extract_business_licence,
    extract_certificate,
    extract_id_back,
    extract_id_front,
)
from ocr.intake import load_image
from ocr.layout import rows
from ocr.pool import OcrPool, on_object
from ocr.quality import TOO_SMALL, check_quality
from ocr.rules import DOCUMENT_KINDS, Expectation, Verdict, judge, machine_failed, unopenable
from ocr.text import NONE, Read, compact
from storage.objects import ObjectStore

# Engine name -> "module:class"; imported lazily so a worker loads only the engine it runs.
ENGINES: Mapping[str, str] = {
    "rapidocr": "ocr.rapid:RapidOcrEngine",
    "tesseract": "ocr.tesseract:TesseractEngine",
}
DEFAULT_ENGINE = "rapidocr"  # most accurate on the corpus within the latency goal (bench ocr)

_loaded: dict[str, OcrEngine] = {}  # per worker process: models load once, on first use
_threads = 0  # this worker's share of the cores; 0: the engine's default


def worker_threads(workers: int) -> int:
    """Cores per worker: several workers each using every core only fight over them.

    Measured with two RapidOCR workers on two cores: one thread each reads 8 photos in 4.1 s,
    the default (all cores each) in 6.6 s; a lone photo on an idle machine takes 0.86 s
    instead of 0.54 s, a fair price for the throughput under load.
    """
    return max(1, (os.cpu_count() or 1) // workers)


def limit_threads(threads: int) -> None:
    """Worker initializer: engines built in this process use ``threads`` threads."""
    global _threads
    _threads = threads
    os.environ["OMP_THREAD_LIMIT"] = str(threads)  # Tesseract's OpenMP, in its subprocess


def engine_named(name: str) -> OcrEngine:
    if name not in _loaded:
        module, cls = ENGINES[name].split(":")
        engine_class = getattr(importlib.import_module(module), cls)
        _loaded[name] = engine_class(threads=_threads) if name == "rapidocr" else engine_class()
    return _loaded[name]


def read_fields(kind: str, lines: list[str], today: date) -> dict[str, Read]:
    """The fields printed on a document of ``kind``; empty for kinds with none to read."""
    readers: Mapping[str, Callable[[list[str]], dict[str, Read]]] = {
        "id_card_front": lambda text: extract_id_front(text, today=today),
        "id_card_back": extract_id_back,
        "business_licence": extract_business_licence,
        "certificate": extract_certificate,
    }
    reader = readers.get(kind)
    return reader(lines) if reader else {}


# Names have no check character: one read from a box the engine was unsure of is left to a
# person rather than risked. On the corpus at 800 px, RapidOCR's misread names (彭鹅娜 for
# 彭鹏娜, 许慧 for 许萱) came from boxes of confidence 0.90-0.93; right ones are over 0.95.
NAME_FIELDS = ("name", "holder_name", "legal_representative", "company_name")
MIN_NAME_CONFIDENCE = 0.95


def unsure_names_unread(read: Mapping[str, Read], boxes: list[Line]) -> dict[str, Read]:
    """``read`` with every name whose box the engine was unsure of made unreadable."""
    kept = dict(read)
    for name in NAME_FIELDS:
        value = kept.get(name, NONE)[0]
        if value is None:
            continue
        sure = [box.confidence for box in boxes if value in compact(box.text)]
        if not sure or max(sure) < MIN_NAME_CONFIDENCE:
            kept[name] = NONE
    return kept


def precheck(engine: str, data: bytes, expect: Expectation) -> Verdict:
    """Judge one uploaded photo (or PDF) against ``expect``; never raises for bad input."""
    try:
        intake = load_image(data)
    except UnreadableImage as exc:
        return unopenable(exc.code, exc.message)
    # A scan or a PDF page is the whole frame; so is a portrait photo or a free-form material.
    whole_frame = intake.content_type == "application/pdf" or expect.kind not in DOCUMENT_KINDS
    quality = check_quality(intake.image, scanned=whole_frame)
    if expect.kind not in DOCUMENT_KINDS | {"form"} or TOO_SMALL in quality:
        # Nothing to read, or too few pixels to read it: the quality findings say it all.
        return judge(expect, quality, expect.kind, {})
    t0 = time.perf_counter()
    boxes = engine_named(engine).recognize(intake.image)
    # Rows, not boxes: a label and its value are often separate boxes side by side.
    lines = rows(boxes)
    seconds = time.perf_counter() - t0
    document = identify(lines)
    kind = KIND_OF[document]
    read = read_fields(kind, lines, expect.today) if kind == expect.kind else {}
    read = unsure_names_unread(read, boxes)
    return judge(expect, quality, kind, read, engine_seconds=seconds, document=document)


def warm_up(engine: str) -> str:
    """Load the engine's models in this worker before the first applicant waits for them."""
    engine_named(engine).recognize(Image.new("RGB", (64, 32), "white"))
    return engine


class Prechecker:
    """The pre-check as a service calls it: each photo judged in a bounded process pool."""

    def __init__(
        self, engine: str = DEFAULT_ENGINE, *, workers: int = 2, timeout: float = 30.0
    ) -> None:
        if engine not in ENGINES:
            raise ValueError(f"unknown OCR engine {engine!r}; known: {', '.join(ENGINES)}")
        self.engine = engine
        self._workers = workers
        self._pool = OcrPool(
            workers,
            timeout=timeout,
            initializer=functools.partial(limit_threads, worker_threads(workers)),
        )

    async def __call__(self, objects: ObjectStore, key: str, expect: Expectation) -> Verdict:
        """Judge the photo stored under ``key``; the worker reads it, this process never does."""
        read_and_judge = functools.partial(precheck, self.engine)
        try:
            return await self._pool.run(on_object, objects.opener(), key, read_and_judge, expect)
        except OcrError:
            # Timed out or the worker died (the pool replaced it): a person decides instead.
            return machine_failed()

    async def warm_up(self) -> None:
        """Start the workers and load the models before the first applicant waits for them."""
        await asyncio.gather(*(self._pool.run(warm_up, self.engine) for _ in range(self._workers)))

    def close(self) -> None:
        self._pool.close()
