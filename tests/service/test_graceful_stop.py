"""SIGTERM to a real ``buchumen serve``: the port refuses at once, an upload in flight is still
answered, and the process is gone within BUCHUMEN_SHUTDOWN_GRACE (Docker kills at 10 s).

aiohttp's own stop dropped the rest of an upload in flight and exited 63 s later (issue 20).
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import unused_port
from PIL import Image

from app.bench.fleet import Member

CHUNKS = 8


class Service(Member):
    """``python -m app.cli serve --demo`` on a temp directory and free ports."""

    def __init__(self, tmp_path: Path, grace: int) -> None:
        port = unused_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("BUCHUMEN_")}
        env |= {
            "BUCHUMEN_DATA_DIR": str(tmp_path / "var"),
            "BUCHUMEN_PORT": str(port),
            "BUCHUMEN_WECHAT_SIMULATOR_PORT": str(unused_port()),
            "BUCHUMEN_OCR_WORKERS": "1",
            "BUCHUMEN_SHUTDOWN_GRACE": str(grace),
        }
        super().__init__("serve", env, tmp_path / "serve.log", port)
        self.grace = grace

    def terminate(self) -> float:
        self.process.send_signal(signal.SIGTERM)
        return time.monotonic()

    def exited_within(self, since: float) -> float:
        """Seconds from ``since`` until the process exits (it must, within a minute)."""
        while self.process.poll() is None:
            assert time.monotonic() - since < 60, "still running a minute after SIGTERM"
            time.sleep(0.02)
        return time.monotonic() - since


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[int], Service]]:
    started: list[Service] = []

    def start(grace: int) -> Service:
        service = Service(tmp_path, grace)
        started.append(service)
        return service

    yield start
    for service in started:
        service.close()


def photo() -> bytes:
    """A PNG of noise, about 260 KB: it does not compress, so it takes a while to send."""
    image = Image.frombytes("L", (512, 512), os.urandom(512 * 512))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def open_case(session: aiohttp.ClientSession, base: str) -> tuple[str, str, str]:
    """A demo citizen's token, a new case's number and a slot of its checklist."""
    async with session.get(f"{base}/api/v1/demo/tokens") as resp:
        tokens = {i["username"]: i["token"] for i in (await resp.json())["items"]}
    auth = {"Authorization": f"Bearer {tokens['demo-citizen']}"}
    async with session.get(f"{base}/api/v1/matters?target=citizen") as resp:
        code = (await resp.json())["items"][0]["code"]
    async with session.post(
        f"{base}/api/v1/cases", json={"matter_code": code}, headers=auth
    ) as resp:
        assert resp.status == 201
        case = await resp.json()
    return auth["Authorization"], case["number"], case["materials"][0]["slot_id"]


async def trickle(
    data: bytes, started: asyncio.Event, go_on: asyncio.Event
) -> AsyncIterator[bytes]:
    """``data`` in pieces: the first, then (once ``go_on``) the rest a little at a time."""
    size = len(data) // CHUNKS + 1
    pieces = [data[i : i + size] for i in range(0, len(data), size)]
    yield pieces[0]
    started.set()
    await go_on.wait()
    for piece in pieces[1:]:
        await asyncio.sleep(0.25)
        yield piece


async def test_an_upload_in_flight_at_sigterm_is_answered_and_the_process_exits_within_the_grace(
    serve: Callable[[int], Service],
) -> None:
    service = serve(8)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        await service.ready(session, 90)
        auth, number, slot = await open_case(session, service.base)
        started, go_on = asyncio.Event(), asyncio.Event()
        upload = asyncio.create_task(
            session.put(
                f"{service.base}/api/v1/cases/{number}/materials/{slot}",
                data=trickle(photo(), started, go_on),
                headers={"Authorization": auth, "Content-Type": "image/png"},
            )
        )
        await started.wait()
        await asyncio.sleep(0.5)  # the handler is reading the body
        signalled = service.terminate()
        await asyncio.sleep(0.3)
        go_on.set()  # the rest of the photo arrives after SIGTERM, over about two seconds
        resp = await upload
        body = await resp.json()
        answered = time.monotonic() - signalled

    assert resp.status == 200, body
    material = {m["slot_id"]: m for m in body["materials"]}[slot]
    assert material["attached"] and material["size"] > 200_000, body
    assert resp.headers.get("Connection", "").lower() == "close"  # no request follows on it
    took = service.exited_within(signalled)
    assert answered < took < service.grace, service.said()
    assert service.process.returncode == 0, service.said()


async def test_after_sigterm_no_new_connection_is_accepted_and_a_stuck_request_is_cut_in_time(
    serve: Callable[[int], Service],
) -> None:
    service = serve(4)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        await service.ready(session, 90)
        auth, number, slot = await open_case(session, service.base)
        idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", service.port)
        started, never = asyncio.Event(), asyncio.Event()
        stuck = asyncio.create_task(
            session.put(
                f"{service.base}/api/v1/cases/{number}/materials/{slot}",
                data=trickle(photo(), started, never),
                headers={"Authorization": auth, "Content-Type": "image/png"},
            )
        )
        await started.wait()
        await asyncio.sleep(0.5)
        signalled = service.terminate()
        await asyncio.sleep(0.5)

        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", service.port)
        # An idle keep-alive connection is closed at once: nothing will be answered on it.
        async with asyncio.timeout(2):
            assert await idle_reader.read() == b""
        idle_writer.close()
        assert service.process.poll() is None  # still answering the upload in flight

        took = await asyncio.to_thread(service.exited_within, signalled)
        stuck.cancel()
        await asyncio.gather(stuck, return_exceptions=True)
    assert took < service.grace + 0.5, service.said()
    assert '"stopping"' in service.said()
