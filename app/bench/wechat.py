"""``buchumen bench wechat``: safe-mode chat traffic, the real /wechat against a bare handler.

The real handler serves bound people with their cases (``app/bench/chat_traffic.py``): it
verifies, decrypts, deduplicates retries, runs the dialogue against the store and encrypts
its reply. The bare handler only verifies, decrypts and encrypts a fixed reply: the floor
every message costs. The two alternate round by round, which goes first alternating too, so
drift on a shared machine hits both alike. The app runs without its background jobs: the
bench times the answers within WeChat's 5 s, not the photo fetches they queue.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web
from rich.console import Console
from rich.table import Table

from app import keys
from app.bench.chat_traffic import (
    AES_KEY,
    APPID,
    TOKEN,
    Person,
    Request,
    Traffic,
    bind_people,
    push,
)
from app.bench.children import in_child
from app.bench.figures import pct
from app.bench.goals import Report
from app.bench.loaders import send_pushes
from app.bench.serving import serve, without_background_jobs
from app.main import create_app
from app.settings import load_settings
from bot import texts
from bot.conversations import INBOUND
from bot.crypto import MessageCrypto, verify_fresh, verify_signature
from bot.wire import parse_xml, render_text_reply
from storage.outbox import OUTBOX

RATE_GOAL, P99_GOAL_MS, RATIO_GOAL = 1_500, 50.0, 0.6
WARM_UP = 200
ROUND_WITHIN = 300.0  # seconds for one round from the load process, at most


@dataclass(frozen=True)
class Size:
    people: int
    messages: int  # per handler, over all rounds
    rounds: int
    concurrency: int

    def resized(self, *, messages: int | None = None, concurrency: int | None = None) -> Size:
        return replace(
            self, messages=messages or self.messages, concurrency=concurrency or self.concurrency
        )


# Many short rounds: load from others on a shared machine comes and goes within seconds.
FULL = Size(people=400, messages=10_000, rounds=10, concurrency=32)
SMOKE = Size(people=40, messages=400, rounds=2, concurrency=8)


def bare_app(crypto: MessageCrypto) -> web.Application:
    """Only what every message costs: verify, decrypt, parse, encrypt a fixed reply."""

    async def handle(request: web.Request) -> web.Response:
        q = request.query
        verify_signature(q["signature"], TOKEN, q["timestamp"], q["nonce"])
        verify_fresh(q["timestamp"], time.time())
        outer = parse_xml(await request.read())
        inner = parse_xml(
            crypto.decrypt(
                outer["Encrypt"],
                msg_signature=q["msg_signature"],
                timestamp=q["timestamp"],
                nonce=q["nonce"],
            ).encode()
        )
        reply = render_text_reply(
            to_user=inner["FromUserName"],
            from_user=inner["ToUserName"],
            content="您好",
            create_time=int(time.time()),
        )
        xml = crypto.encrypt_reply(reply, nonce=q["nonce"], timestamp=q["timestamp"])
        return web.Response(text=xml, content_type="application/xml")

    app = web.Application()
    app.router.add_post("/wechat", handle)
    return app


@dataclass
class Runs:
    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # this process's CPU per message

    async def drive(self, url: str, requests: list[Request], concurrency: int) -> float:
        # Both handlers are served here, one driven at a time: the CPU is the driven one's.
        cpu = time.process_time()
        elapsed, latencies, failures = await in_child(
            send_pushes, url, requests, concurrency, seconds=ROUND_WITHIN
        )
        self.cpu_ms.append((time.process_time() - cpu) * 1000 / len(requests))
        self.latencies.extend(latencies)
        self.failures.extend(failures)
        return float(len(requests) / elapsed)


async def run_wechat_bench(size: Size, *, console: Console, smoke: bool = False) -> Report:
    crypto = MessageCrypto(TOKEN, AES_KEY, APPID)
    runs = {"real": Runs(), "bare": Runs()}
    report = Report("wechat", smoke)
    with tempfile.TemporaryDirectory(prefix="buchumen-bench-") as tmp:
        settings = load_settings(
            {},
            demo=True,
            data_dir=Path(tmp),
            log_level="WARNING",
            wechat_simulator_port=0,
            wechat_token=TOKEN,
            wechat_encoding_aes_key=AES_KEY,
            wechat_appid=APPID,
            wechat_appsecret="s" * 32,
            wechat_api_base_url="http://127.0.0.1:9",  # nothing goes out: no background jobs
        )
        app = without_background_jobs(create_app(settings))
        real_runner, real_base = await serve(app)
        bare_runner, bare_base = await serve(bare_app(crypto))
        urls = {"real": f"{real_base}/wechat", "bare": f"{bare_base}/wechat"}
        try:
            store = app[keys.DOCUMENTS]
            with console.status(f"binding {size.people} people and opening their cases…"):
                people = await bind_people(store, app[keys.CASES], size.people, datetime.now(UTC))
            traffic = Traffic(people)
            per_round = max(1, size.messages // size.rounds)
            console.print(
                f"{size.people} bound people, {sum(len(p.cases) for p in people)} cases; warming "
                f"up, then {size.rounds} rounds of {per_round:,} messages to each handler, "
                f"alternating, {size.concurrency} in flight…"
            )
            warm = traffic.requests(crypto, 0, WARM_UP)
            for name, url in urls.items():
                await Runs(failures=runs[name].failures).drive(url, warm, size.concurrency)
            for n in range(size.rounds):
                batch = traffic.requests(crypto, WARM_UP + n * per_round, per_round)
                for name in ("real", "bare") if n % 2 == 0 else ("bare", "real"):
                    rate = await runs[name].drive(urls[name], batch, size.concurrency)
                    runs[name].rates.append(rate)
            photos = await store.count(OUTBOX, {"topic": "wechat.photo"})
            receipts = await store.count(INBOUND)
            wrong, asked = await _wrong_replies(urls["real"], crypto, people)
        finally:
            await real_runner.cleanup()
            await bare_runner.cleanup()
    sent = sum(traffic.sent.values())
    failures = runs["real"].failures + runs["bare"].failures
    report.check("every message answered 200", failures, 2 * sent)
    missed = (
        [f"{traffic.sent['photo'] - photos} not queued"] if photos < traffic.sent["photo"] else []
    )
    report.check("every photo acknowledged and its fetch queued", missed, traffic.sent["photo"])
    report.check("replies say what is true of the person (sampled)", wrong, asked)
    share = (photos + receipts) / sent
    report.add(
        "messages that changed something: 10 % (9–11 %)",
        f"{100 * share:.1f} %",
        0.09 <= share <= 0.11,
        correctness=True,
    )
    _figures(runs, size, per_round, console, report)
    return report


def _figures(
    runs: dict[str, Runs], size: Size, per_round: int, console: Console, report: Report
) -> None:
    table = Table(title=f"bench wechat (safe mode, {size.rounds} × {per_round:,} messages each)")
    for column in ("handler", "median msg/s", "p50 ms", "p99 ms", "CPU ms/msg"):
        table.add_column(column, justify="right" if column != "handler" else "left")
    for name, label in (("real", "real /wechat, bound people"), ("bare", "bare crypto")):
        run = runs[name]
        table.add_row(
            label,
            f"{statistics.median(run.rates):,.0f}",
            f"{pct(run.latencies, 50):.1f}",
            f"{pct(run.latencies, 99):.1f}",
            f"{statistics.median(run.cpu_ms):.2f}",
        )
    console.print(table)
    ratios = [r / b for r, b in zip(runs["real"].rates, runs["bare"].rates, strict=True)]
    ratio = statistics.median(ratios)
    console.print(f"ratio real/bare per round: {', '.join(f'{r:.2f}' for r in ratios)}")
    rate, p99 = statistics.median(runs["real"].rates), pct(runs["real"].latencies, 99)
    report.add(f"real ≥ {RATE_GOAL:,} msg/s", f"{rate:,.0f}", rate >= RATE_GOAL)
    report.add(f"real p99 ≤ {P99_GOAL_MS:g} ms", f"{p99:.1f} ms", p99 <= P99_GOAL_MS)
    report.add(
        f"real ≥ {RATIO_GOAL} × bare (median of rounds)", f"{ratio:.2f}", ratio >= RATIO_GOAL
    )


async def _wrong_replies(
    url: str, crypto: MessageCrypto, people: list[Person]
) -> tuple[list[str], int]:
    """Ask ten people (with and without cases, filling one or not) what the chat tells them;
    the answers that were wrong, and how many questions were asked."""
    wrong: list[str] = []
    asked = 0
    sample = people[:: max(1, len(people) // 10)][:10]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        for k, person in enumerate(sample):
            base = 10**9 + 3 * k  # message ids the timed traffic never uses

            async def ask(i: int, kind: str, content: str, who: Person = person) -> str:
                nonlocal asked
                asked += 1
                query, body = push(crypto, i, who.openid, kind, content)
                async with http.post(url, params=query, data=body) as resp:
                    return _reply_text(crypto, await resp.read())

            listed = await ask(base, "text", "查询进度")
            if not all(n in listed for n in person.cases) or (
                not person.cases and listed != texts.NO_CASES
            ):
                wrong.append(f"查询进度 for {person.openid}: {listed[:40]}")
            if person.cases:
                detail = await ask(base + 1, "text", person.cases[0])
                if person.cases[0] not in detail:
                    wrong.append(f"{person.cases[0]} for {person.openid}: {detail[:40]}")
            photo = await ask(base + 2, "image", f"check{k}")
            expected = texts.PHOTO_RECEIVED if person.filling else texts.NO_OPEN_CASE
            if photo != expected:
                wrong.append(f"photo from {person.openid}: {photo[:40]}")
    return wrong, asked


def _reply_text(crypto: MessageCrypto, body: bytes) -> str:
    fields = parse_xml(body)
    inner = crypto.decrypt(
        fields["Encrypt"],
        msg_signature=fields["MsgSignature"],
        timestamp=fields["TimeStamp"],
        nonce=fields["Nonce"],
    )
    return str(parse_xml(inner.encode())["Content"])
