"""Every OCR engine adapter reads the fields the pre-check needs from a clean rendering."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr.engine import OcrEngine
from ocr.pool import OcrPool, OcrTimeout
from ocr.rapid import RapidOcrEngine
from ocr.tesseract import TesseractEngine

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
ENGINES: dict[str, type[OcrEngine]] = {"tesseract": TesseractEngine, "rapidocr": RapidOcrEngine}


def render(lines: list[str]) -> Image.Image:
    if not FONT.exists():
        pytest.skip("fonts-noto-cjk is not installed (python3 -m tests installs it)")
    font = ImageFont.truetype(str(FONT), 40)
    image = Image.new("RGB", (1100, 80 + 70 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for n, text in enumerate(lines):
        draw.text((40, 40 + 70 * n), text, fill="black", font=font)
    return image


@pytest.fixture(params=sorted(ENGINES))
def engine(request: pytest.FixtureRequest) -> OcrEngine:
    return ENGINES[request.param]()


def test_an_engine_reads_a_citizen_id_number_and_a_chinese_name(engine: OcrEngine) -> None:
    lines = engine.recognize(render(["姓名 张三", "公民身份号码 11010519491231002X"]))
    text = "\n".join(line.text.replace(" ", "") for line in lines)
    assert "11010519491231002X" in text
    assert "张三" in text
    assert all(0 <= line.confidence <= 1 for line in lines)
    assert [line.box[1] for line in lines] == sorted(line.box[1] for line in lines)


def test_an_engine_reads_a_unified_social_credit_code(engine: OcrEngine) -> None:
    lines = engine.recognize(render(["统一社会信用代码 91350100M000100Y43"]))
    assert "91350100M000100Y43" in "".join(line.text.replace(" ", "") for line in lines)


def _slow(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


async def test_a_stuck_recognition_times_out_and_the_pool_keeps_working() -> None:
    # Generous: the timeout also covers starting a worker, slow on a busy two-core machine.
    pool = OcrPool(workers=1, timeout=3)
    try:
        started = time.monotonic()
        with pytest.raises(OcrTimeout):
            await pool.run(_slow, 60)
        assert await pool.run(_slow, 0) == "done"
        assert time.monotonic() - started < 30  # the stuck worker did not hold anything up
    finally:
        pool.close()


async def test_the_event_loop_keeps_ticking_while_the_pool_recognizes() -> None:
    pool = OcrPool(workers=1, timeout=10)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        assert await pool.run(_slow, 0.5) == "done"
    finally:
        ticker.cancel()
        pool.close()
    assert ticks >= 20  # the loop ran all along (50 would be perfect)


# A service that opens an OCR pool, runs one recognition (here: which process am I?), waits.
SERVICE = """
import asyncio, os
from ocr.pool import OcrPool
async def main():
    pool = OcrPool(workers=1, timeout=60)
    print(await pool.run(os.getpid), flush=True)
    await asyncio.sleep(600)
asyncio.run(main())
"""


def _running(pid: int) -> bool:
    try:  # the third field of /proc/<pid>/stat is its state; Z: exited, not yet reaped
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_killed_service_takes_its_ocr_workers_with_it() -> None:
    """kill -9 (or the OOM killer) on the service must not leave its OCR workers behind, each
    holding its models, forever."""
    root = Path(__file__).resolve().parents[2]
    service = subprocess.Popen(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", SERVICE], cwd=root, stdout=subprocess.PIPE, text=True
    )
    try:
        assert service.stdout is not None
        worker = int(service.stdout.readline())
        assert _running(worker)
        service.kill()
        service.wait()
        deadline = time.monotonic() + 15
        while _running(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(worker), "the OCR worker outlived the service that started it"
    finally:
        service.kill()
        service.wait()
