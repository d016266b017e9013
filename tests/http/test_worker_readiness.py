"""``buchumen worker`` answers ready only once its OCR models are loaded, so an orchestrator
rolling out a new worker stops the old one only when the new one would judge a photo at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.main import create_worker_app
from app.settings import Settings
from ocr.precheck import Prechecker


async def test_a_worker_is_ready_once_its_models_are_loaded(
    aiohttp_client: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = asyncio.Event()

    async def warm_up(self: Prechecker) -> None:  # the models load until the test says so
        await loaded.wait()

    monkeypatch.setattr(Prechecker, "warm_up", warm_up)
    client = await aiohttp_client(create_worker_app(settings, warm_ocr=True))

    warming = await client.get("/readyz")
    assert warming.status == 503
    body = await warming.json()
    assert body["checks"]["ocr"] == "warming up" and body["failing"] == ["ocr"]
    assert (await client.get("/healthz")).status == 200  # alive meanwhile: not to be killed

    loaded.set()
    for _ in range(100):
        ready = await client.get("/readyz")
        if ready.status == 200:
            break
        await asyncio.sleep(0.01)
    assert ready.status == 200
    assert (await ready.json())["checks"] == {"documents": "ok", "objects": "ok", "ocr": "ok"}
