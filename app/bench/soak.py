"""``buchumen bench soak``: mixed traffic against the real service for minutes, RSS each minute.

The service runs as ``buchumen serve --demo`` in a process of its own (a temporary data
directory, free ports), so the RSS read from ``/proc`` is the server's alone (its OCR workers
apart). Applicants browse the catalog, open cases (with an Idempotency-Key, sometimes retried),
upload photos, submit and read their cases; reviewers read their queue and return cases with
one notice; people chat with the account through the local WeChat, and the notices go out
through the outbox. The server's RSS is read every ``interval``, with its heap (RssAnon) and
the document store's size on disk; the slope after the first samples (a least-squares line, MB
per minute, over the second half of the run) says whether memory keeps growing. SQLite's page
cache (8 MB on each of the store's four connections) is heap that grows with the store until it
is full, about 20 minutes of this traffic, so a run shorter than 40 minutes takes it for a leak:
compare the heap's growth with the store's. At the end the
service is stopped with SIGTERM, as a container is.

Goals: no request answered with an unexpected status; the RSS slope after warm-up at most
``SLOPE_GOAL`` MB/min (full runs only: a smoke run is too short to hold a slope to).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import unused_port
from rich.console import Console
from rich.table import Table

from app.bench.figures import pct
from app.bench.fleet import Member
from app.bench.goals import Report, status

SLOPE_GOAL = 0.05  # MB/min after warm-up: 3 MB an hour
GRACE = 8.0  # BUCHUMEN_SHUTDOWN_GRACE's default: the stop must end inside it
USERS = 4  # applicants at once; one reviewer and one chatting person beside them
PACE = 0.15  # seconds each simulated person waits after each request: about 40 requests/s
# A PNG cut off inside its image data: the upload takes it and the pre-check finds it damaged
# at once, so the OCR pool is exercised without taking the cores from the traffic.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000040000000400800000000f87a2ce50000005049444154"
)
CHAT = ("帮助", "查询进度", "我的办件", "我要办", "0")


@dataclass
class Tally:
    """What the traffic got: statuses per step, latencies, the first few surprises."""

    latencies: list[float] = field(default_factory=list)
    steps: Counter[str] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)
    wrong_count: int = 0

    def record(
        self, step: str, status: int, expected: set[int], seconds: float, body: bytes
    ) -> None:
        self.latencies.append(seconds)
        self.steps[step] += 1
        if status not in expected:
            self.wrong_count += 1
            if len(self.wrong) < 5:
                self.wrong.append(f"{step}: {status} {body[:200].decode(errors='replace')}")


class Client:
    """One person's HTTP session against the service, timing and checking every call."""

    def __init__(self, http: aiohttp.ClientSession, tally: Tally, token: str = "") -> None:
        self.http, self.tally = http, tally
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def call(
        self, step: str, method: str, url: str, *, expect: set[int] | None = None, **kw: Any
    ) -> Any:
        headers = self.headers | kw.pop("headers", {})
        started = time.perf_counter()
        async with self.http.request(method, url, headers=headers, **kw) as resp:
            body = await resp.read()
            status = resp.status
            kind = resp.content_type
        self.tally.record(step, status, expect or {200}, time.perf_counter() - started, body)
        await asyncio.sleep(PACE)  # a person, not a load generator: the rate stays steady
        return json.loads(body) if kind == "application/json" and status < 300 else None


async def applicant(client: Client, stop: asyncio.Event, matters: list[str]) -> None:
    """Browse, open a case (retrying once in five with its key), fill it in, submit, read."""
    for n in itertools.count():
        if stop.is_set():
            return
        code = matters[n % len(matters)]
        await client.call("healthz", "GET", "/healthz")
        await client.call("matters", "GET", "/api/v1/matters", params={"target": "citizen"})
        await client.call("guide", "GET", f"/api/v1/matters/{code}")
        key = {"Idempotency-Key": uuid.uuid4().hex}
        body = {"matter_code": code}
        case = await client.call(
            "open", "POST", "/api/v1/cases", json=body, headers=key, expect={201}
        )
        if case is None:
            continue
        if n % 5 == 0:  # a client that lost the answer retries
            await client.call("open again", "POST", "/api/v1/cases", json=body, headers=key)
        number = case["number"]
        for slot in [m["slot_id"] for m in case["materials"] if m["required"]]:
            url = f"/api/v1/cases/{number}/materials/{slot}"
            await client.call("upload", "PUT", url, data=PNG)
        await client.call("submit", "POST", f"/api/v1/cases/{number}/submit", json={})
        await client.call("case", "GET", f"/api/v1/cases/{number}")
        await client.call("history", "GET", f"/api/v1/cases/{number}/history")
        await client.call("my cases", "GET", "/api/v1/cases", params={"size": "5"})
        await client.call("missing", "GET", "/api/v1/cases/BC20990101000000", expect={404})


async def reviewer(clients: dict[str, Client], stop: asyncio.Event) -> None:
    """Each department's reviewer reads the queue and returns the first case with one notice."""
    while not stop.is_set():
        for client in clients.values():
            queue = await client.call(
                "queue", "GET", "/api/v1/cases", params={"state": "submitted"}
            )
            for case in (queue or {}).get("items", [])[:1]:
                fix = [{"slot_id": case["materials"][0]["slot_id"], "defects": ["blurry"]}]
                url = f"/api/v1/cases/{case['number']}/return"
                body = {"version": case["version"], "corrections": fix}
                await client.call("return", "POST", url, json=body, expect={200, 409})
        await asyncio.sleep(PACE)


async def chatter(client: Client, stop: asyncio.Event) -> None:
    """People writing to the account through the local WeChat (its /chat page's endpoint)."""
    for n in itertools.count():
        if stop.is_set():
            return
        body = {"openid": f"o_soak_{n % 7}", "text": CHAT[n % len(CHAT)]}
        await client.call("chat", "POST", "/chat/api/send", json=body)
        await asyncio.sleep(PACE)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """The resident set of process ``pid`` in MB (Linux); ``RssAnon``: its heap's part."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


def documents_mb(data: Path) -> float:
    """The SQLite document store's size on disk, its write-ahead log included."""
    return sum(f.stat().st_size for f in data.glob("buchumen.sqlite3*")) / 2**20


def slope(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (minute, MB) samples, in MB per minute."""
    if len(samples) < 2:
        return 0.0
    xs, ys = [x for x, _ in samples], [y for _, y in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in samples) / spread if spread else 0.0


@asynccontextmanager
async def service(data: Path) -> AsyncIterator[tuple[int, str, str]]:
    """``buchumen serve --demo`` on ``data`` and free ports: (pid, base URL, chat URL).

    Leaving stops it with SIGTERM, as ``docker stop`` does."""
    port, chat_port = unused_port(), unused_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUCHUMEN_")}
    env |= {
        "BUCHUMEN_DATA_DIR": str(data),
        "BUCHUMEN_PORT": str(port),
        "BUCHUMEN_WECHAT_SIMULATOR_PORT": str(chat_port),
        "BUCHUMEN_OCR_WORKERS": "1",
        "BUCHUMEN_LOG_LEVEL": "WARNING",
    }
    member = Member("serve", env, data.parent / "serve.log", port)
    try:
        async with aiohttp.ClientSession() as http:
            await member.ready(http, 120)
        yield member.pid, member.base, f"http://127.0.0.1:{chat_port}"
    finally:
        await asyncio.to_thread(member.close, 30)  # SIGTERM, as a container is stopped


async def run_soak_bench(*, minutes: float, console: Console, smoke: bool = False) -> Report:
    """Drive the service for ``minutes`` (a smoke run: seconds) and print its RSS."""
    interval = 1.5 if smoke else 60.0
    seconds = 8.0 if smoke else minutes * 60
    tally, samples = Tally(), []
    with tempfile.TemporaryDirectory(prefix="buchumen-soak-") as tmp:
        async with service(Path(tmp) / "var") as (pid, base, chat):
            async with aiohttp.ClientSession(base) as anon:
                tokens = await (await anon.get("/api/v1/demo/tokens")).json()
                tokens = {i["username"]: i["token"] for i in tokens["items"]}
                listing = await (await anon.get("/api/v1/matters?target=citizen")).json()
                # The matters the demo citizen may apply for (老年人优待证 asks an age).
                auth = {"Authorization": f"Bearer {tokens['demo-citizen']}"}
                matters = []
                for item in listing["items"]:
                    body = {"matter_code": item["code"]}
                    async with anon.post("/api/v1/cases", json=body, headers=auth) as resp:
                        if resp.status == 201:
                            matters.append(item["code"])
            sessions = [aiohttp.ClientSession(base) for _ in range(USERS + 1)]
            sessions.append(aiohttp.ClientSession(chat))
            stop = asyncio.Event()
            staff = {u: Client(sessions[USERS], tally, t) for u, t in tokens.items()}
            people = [
                applicant(Client(s, tally, tokens["demo-citizen"]), stop, matters)
                for s in sessions[:USERS]
            ]
            reviewers = {u: c for u, c in staff.items() if u.startswith("reviewer-")}
            tasks = [asyncio.create_task(p) for p in people]
            tasks.append(asyncio.create_task(reviewer(reviewers, stop)))
            tasks.append(asyncio.create_task(chatter(Client(sessions[-1], tally), stop)))
            started = time.monotonic()
            data = Path(tmp) / "var"
            samples.append((0.0, rss_mb(pid)))
            rows = [(0.0, samples[0][1], rss_mb(pid, "RssAnon"), documents_mb(data), 0)]
            try:
                while (elapsed := time.monotonic() - started) < seconds:
                    await asyncio.sleep(min(interval, seconds - elapsed))
                    for task in tasks:
                        if task.done():
                            task.result()  # a broken client stops the soak with its error
                    at = (time.monotonic() - started) / 60
                    samples.append((at, rss_mb(pid)))
                    heap, disk = rss_mb(pid, "RssAnon"), documents_mb(data)
                    rows.append((at, samples[-1][1], heap, disk, len(tally.latencies)))
                    if not smoke:
                        console.print(
                            f"  minute {at:5.1f}: RSS {samples[-1][1]:7.1f} MB "
                            f"(heap {heap:.1f} MB), documents {disk:.1f} MB on disk"
                        )
            finally:
                stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)
                for s in sessions:
                    await s.close()
            stopping = time.monotonic()
        stopped = time.monotonic() - stopping
    # The first half warms up: SQLite's page caches (8 MB on each of the store's four
    # connections) fill as the store grows, about 20 minutes of this traffic.
    warm = samples[max(1, len(samples) // 2) :]
    growth = slope(warm)
    table = Table(title=f"bench soak · {seconds / 60:.1f} min of mixed traffic")
    columns = ("minute", "server RSS (MB)", "of it heap", "documents on disk", "requests so far")
    for column in columns:
        table.add_column(column, justify="right")
    for at, mb, heap, disk, count in rows:
        minute = f"{at:.2f}" if smoke else f"{at:.0f}"
        table.add_row(minute, f"{mb:.1f}", f"{heap:.1f}", f"{disk:.1f}", f"{count:,}")
    console.print(table)
    rate = len(tally.latencies) / seconds
    p50, p99 = (pct(tally.latencies, q) * 1000 for q in (50, 99))
    console.print(
        f"{len(tally.latencies):,} requests ({rate:.0f}/s), {tally.wrong_count} unexpected; "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    console.print("Steps: " + ", ".join(f"{k} {v:,}" for k, v in sorted(tally.steps.items())))
    console.print(
        f"RSS slope after warm-up: {growth:+.3f} MB/min (over all samples {slope(samples):+.3f}); "
        f"stopped by SIGTERM in {stopped:.1f} s"
    )
    if tally.wrong:
        console.print("Unexpected answers, e.g. " + "; ".join(tally.wrong))
    report = Report("soak", smoke)
    total = len(tally.latencies)
    answered = f"{total - tally.wrong_count:,} of {total:,}"
    report.add(
        "every request answered as expected",
        answered,
        total > 0 and not tally.wrong_count,
        correctness=True,
    )
    report.add(
        f"stopped by SIGTERM within the grace ({GRACE:.0f} s)",
        f"{stopped:.1f} s",
        stopped < GRACE,
        correctness=True,
    )
    report.add(
        f"RSS slope after warm-up ≤ {SLOPE_GOAL} MB/min",
        f"{growth:+.3f} MB/min",
        growth <= SLOPE_GOAL,
    )
    return report


def main() -> int:
    """``python -m app.bench.soak [--minutes N] [--smoke]``: the bench without the CLI."""
    parser = argparse.ArgumentParser(prog="python -m app.bench.soak")
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--smoke", action="store_true", help="seconds only, for CI")
    args = parser.parse_args()
    console = Console()
    report = asyncio.run(run_soak_bench(minutes=args.minutes, console=console, smoke=args.smoke))
    console.print(report.table())
    return status([report])


if __name__ == "__main__":
    sys.exit(main())
