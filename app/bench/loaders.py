"""What the load processes run: only aiohttp, so each starts in a fraction of a second.

Each function runs in a spawned child (``app.bench.children.in_child``) and puts one result
on ``out``: its seconds, latencies and the failures it saw.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp

Request = tuple[dict[str, str], bytes]


def send_pushes(url: str, requests: list[Request], concurrency: int, out: Any) -> None:
    """POST every signed push with ``concurrency`` in flight: seconds, latencies, failures."""

    async def run() -> tuple[float, list[float], list[str]]:
        latencies: list[float] = []
        failures: list[str] = []
        queue = list(reversed(requests))
        # As WeChat's servers push: without Accept-Encoding, so answers go uncompressed.
        session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=30), skip_auto_headers=("Accept-Encoding",)
        )
        async with session:

            async def worker() -> None:
                while queue:
                    query, body = queue.pop()
                    t0 = time.perf_counter()
                    async with session.post(url, params=query, data=body) as resp:
                        await resp.read()
                        if resp.status != 200:
                            failures.append(f"HTTP {resp.status}")
                    latencies.append((time.perf_counter() - t0) * 1000)

            t0 = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return time.perf_counter() - t0, latencies, failures

    out.put(asyncio.run(run()))


def put_photos(base: str, token: str, photo: Path, paths: list[str], out: Any) -> None:
    """PUT ``photo`` to every material path at once: seconds and failures."""
    data = photo.read_bytes()

    async def run() -> tuple[float, list[str]]:
        headers = {"Authorization": f"Bearer {token}"}
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(base, headers=headers, timeout=timeout) as http:
            failures: list[str] = []

            async def put(path: str) -> None:
                async with http.put(path, data=data) as r:
                    if r.status != 200:
                        failures.append(f"{r.status} {(await r.text())[:80]}")

            t0 = time.perf_counter()
            await asyncio.gather(*map(put, paths))
            return time.perf_counter() - t0, failures

    out.put(asyncio.run(run()))
