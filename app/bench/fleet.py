"""Many ``buchumen`` processes on one store, as a scaled deployment runs them: web instances
(``serve --demo`` with ``BUCHUMEN_OCR_IN_WEB=false``) and OCR ``worker`` processes, sharing one
data directory (the SQLite file or the MongoDB named in ``env``, the object directory and the
demo's JWT secret). For the multi-instance tests and ``bench scale``; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO

import aiohttp

from app.bench.children import BenchTimeout

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Member:
    """One process of the fleet: ``python -m app.cli <role> --demo``, its output in a file."""

    def __init__(
        self, role: str, env: Mapping[str, str], log: Path, port: int, core: int | None = None
    ) -> None:
        self.role, self.port = role, port
        self.base = f"http://127.0.0.1:{port}"
        self.log: IO[str] = log.open("w+")
        self.process = subprocess.Popen(  # noqa: S603 - our own module, no shell
            [sys.executable, "-m", "app.cli", role, "--demo"],
            cwd=ROOT,
            env=dict(env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        if core is not None:  # before it starts a thread or a process: they inherit it
            os.sched_setaffinity(self.process.pid, {core})

    @property
    def pid(self) -> int:
        return self.process.pid

    async def ready(self, http: aiohttp.ClientSession, seconds: float) -> None:
        """Wait until ``/readyz`` answers 200 (stores open, demo data loaded, listening)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchTimeout(f"{self.role} {self.pid} exited at start: {self.said()}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(f"{self.base}/readyz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.2)
        raise BenchTimeout(f"{self.role} {self.pid} not ready in {seconds:.0f} s: {self.said()}")

    def children(self) -> list[str]:
        """The command lines of the processes it started (an OCR pool's workers among them)."""
        with contextlib.suppress(OSError):
            pids = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
            return [
                Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                for pid in pids
            ]
        return []

    def said(self, last: int = 3000) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-last:]

    def close(self, within: float = 60) -> None:
        """Stop it as an orchestrator would (SIGTERM: it lets its own processes go), killed if
        still running ``within`` seconds later."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(within)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class Fleet:
    """``webs`` web instances and ``workers`` OCR workers on the data directory ``data_dir``.

    ``env``: more settings for all of them (``BUCHUMEN_DOCUMENT_STORE=mongodb``, ...).
    ``pin``: each worker on a core of its own (with its OCR pool), as if each had a machine;
    the web instances use any core. Use it as a context manager: whatever is still running at
    the end is stopped (SIGTERM), and killed if it has not exited a minute later.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        webs: int = 2,
        workers: int = 1,
        ocr_workers: int = 1,
        env: Mapping[str, str] | None = None,
        grace: int = 6,
        log_level: str = "INFO",
        pin: bool = False,
    ) -> None:
        self.data_dir, self.grace = data_dir, grace
        self._cores = sorted(os.sched_getaffinity(0)) if pin else []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BUCHUMEN_")}
        self.env |= {
            "BUCHUMEN_DATA_DIR": str(data_dir),
            "BUCHUMEN_OCR_IN_WEB": "false",
            "BUCHUMEN_OCR_WORKERS": str(ocr_workers),
            "BUCHUMEN_SHUTDOWN_GRACE": str(grace),
            "BUCHUMEN_LOG_LEVEL": log_level,
            **(env or {}),
        }
        self._sizes = (webs, workers)
        self.webs: list[Member] = []
        self.workers: list[Member] = []

    def __enter__(self) -> Fleet:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        webs, workers = self._sizes
        for i in range(webs):
            port = free_port()
            own = {"BUCHUMEN_PORT": str(port), "BUCHUMEN_WECHAT_SIMULATOR_PORT": str(free_port())}
            self.webs.append(self._start("serve", own, f"serve-{i}.log", port))
        for i in range(workers):
            self.add_worker(i)
        return self

    def add_worker(self, i: int) -> Member:
        port = free_port()
        own = {"BUCHUMEN_WORKER_PORT": str(port)}
        core = self._cores[i % len(self._cores)] if self._cores else None
        self.workers.append(self._start("worker", own, f"worker-{i}.log", port, core))
        return self.workers[-1]

    def _start(
        self, role: str, own: dict[str, str], log: str, port: int, core: int | None = None
    ) -> Member:
        return Member(role, self.env | own, self.data_dir.parent / log, port, core)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop([m for m in self.members if m.process.poll() is None])  # all at once
        for member in self.members:
            member.close()  # killed if the stop overran

    @property
    def members(self) -> list[Member]:
        return [*self.webs, *self.workers]

    async def ready(self, http: aiohttp.ClientSession, seconds: float = 120) -> None:
        await asyncio.gather(*(m.ready(http, seconds) for m in self.members))

    def stop(self, members: list[Member] | None = None) -> dict[int, tuple[int | None, float]]:
        """SIGTERM to each; per pid, its exit status and the seconds it took to exit (status
        None: still running a minute later)."""
        chosen = self.members if members is None else members
        signalled = time.monotonic()
        for member in chosen:
            if member.process.poll() is None:
                member.process.send_signal(signal.SIGTERM)
        took: dict[int, tuple[int | None, float]] = {}
        while len(took) < len(chosen) and time.monotonic() - signalled < 60:
            for member in chosen:
                if member.pid not in took and member.process.poll() is not None:
                    took[member.pid] = (member.process.returncode, time.monotonic() - signalled)
            time.sleep(0.02)
        return {m.pid: took.get(m.pid, (None, 60.0)) for m in chosen}
