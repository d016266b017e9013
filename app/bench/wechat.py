"""``buchumen bench wechat``: safe-mode messages, the real /wechat vs a bare crypto handler."""

from __future__ import annotations

import asyncio
import multiprocessing
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from rich.console import Console
from rich.table import Table

from app.bench.figures import pct
from app.main import create_app
from app.settings import load_settings
from bot.crypto import MessageCrypto, verify_signature
from bot.wire import parse_xml, render_text_reply

TOKEN, AES_KEY, APPID = "bench-token", "B" * 43, "wxbench000000001"
WORDS = ("帮助", "查询进度", "我要办", "你好")
Request = tuple[dict[str, str], bytes]


def _requests(crypto: MessageCrypto, n: int, start: int) -> list[Request]:
    """``n`` distinct signed and encrypted text pushes, as WeChat would send them."""
    out = []
    for i in range(start, start + n):
        ts, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
        inner = (
            f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
            f"<FromUserName><![CDATA[oBench{i % 400:04d}]]></FromUserName>"
            f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{WORDS[i % len(WORDS)]}]]></Content>"
            f"<MsgId>{10**12 + i}</MsgId></xml>"
        )
        body, msg_signature = crypto.encrypt_push(inner, nonce=nonce, timestamp=ts)
        query = {
            "signature": _plain_signature(ts, nonce),
            "timestamp": ts,
            "nonce": nonce,
            "encrypt_type": "aes",
            "msg_signature": msg_signature,
        }
        out.append((query, body.encode()))
    return out


def _plain_signature(ts: str, nonce: str) -> str:
    from bot.crypto import signature

    return signature(TOKEN, ts, nonce)


def bare_app(crypto: MessageCrypto) -> web.Application:
    """Only what every message costs: verify, decrypt, parse, encrypt a fixed reply."""

    async def handle(request: web.Request) -> web.Response:
        q = request.query
        verify_signature(q["signature"], TOKEN, q["timestamp"], q["nonce"])
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


def _load(url: str, requests: list[Request], concurrency: int, out: Any) -> None:
    """Child process: send every request with ``concurrency`` in flight; report latencies."""

    async def run() -> tuple[float, list[float], int]:
        latencies: list[float] = []
        failures = 0
        queue = list(reversed(requests))
        async with aiohttp.ClientSession() as session:

            async def worker() -> None:
                nonlocal failures
                while queue:
                    query, body = queue.pop()
                    t0 = time.perf_counter()
                    async with session.post(url, params=query, data=body) as resp:
                        await resp.read()
                        failures += resp.status != 200
                    latencies.append((time.perf_counter() - t0) * 1000)

            t0 = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return time.perf_counter() - t0, latencies, failures

    out.put(asyncio.run(run()))


async def _drive(url: str, requests: list[Request], concurrency: int) -> tuple[float, list[float]]:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_load, args=(url, requests, concurrency, out))
    proc.start()
    elapsed, latencies, failures = await asyncio.to_thread(out.get)
    await asyncio.to_thread(proc.join)
    if failures:
        raise RuntimeError(f"{failures} requests failed")
    return len(requests) / elapsed, latencies


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/wechat"


async def run_wechat_bench(
    *, messages: int, concurrency: int, console: Console, rounds: int = 5
) -> int:
    """Alternate real and bare for ``rounds`` rounds: drift on a shared VM hits both alike."""
    crypto = MessageCrypto(TOKEN, AES_KEY, APPID)
    rates: dict[str, list[float]] = {"real": [], "bare": []}
    latencies: dict[str, list[float]] = {"real": [], "bare": []}
    with tempfile.TemporaryDirectory(prefix="buchumen-bench-") as tmp:
        settings = load_settings(
            {},
            demo=True,
            data_dir=Path(tmp),
            log_level="WARNING",
            wechat_token=TOKEN,
            wechat_encoding_aes_key=AES_KEY,
            wechat_appid=APPID,
            wechat_appsecret="s" * 32,
            wechat_api_base_url="http://127.0.0.1:9",  # no outbound call happens in this bench
        )
        real_runner, real_url = await _serve(create_app(settings))
        bare_runner, bare_url = await _serve(bare_app(crypto))
        urls = {"real": real_url, "bare": bare_url}
        per_round = max(1, messages // rounds)
        try:
            console.print(
                f"warming up, then {rounds} rounds of {per_round:,} messages to each handler, "
                f"alternating, {concurrency} in flight…"
            )
            for url in urls.values():
                await _drive(url, _requests(crypto, 200, 0), concurrency)
            for n in range(rounds):
                for name, url in urls.items():
                    batch = _requests(crypto, per_round, 1000 + n * per_round)
                    rate, lat = await _drive(url, batch, concurrency)
                    rates[name].append(rate)
                    latencies[name].extend(lat)
        finally:
            await real_runner.cleanup()
            await bare_runner.cleanup()

    table = Table(title=f"bench wechat (safe mode, {rounds} × {per_round:,} messages each)")
    for column in ("handler", "median msg/s", "p50 ms", "p99 ms"):
        table.add_column(column, justify="right" if column != "handler" else "left")
    for name, label in (("real", "real /wechat"), ("bare", "bare crypto")):
        lat = latencies[name]
        table.add_row(
            label,
            f"{statistics.median(rates[name]):,.0f}",
            f"{pct(lat, 50):.1f}",
            f"{pct(lat, 99):.1f}",
        )
    Console().print(table)
    ratios = [r / b for r, b in zip(rates["real"], rates["bare"], strict=True)]
    ratio = statistics.median(ratios)
    real_rate, real_p99 = statistics.median(rates["real"]), pct(latencies["real"], 99)
    goals = real_rate >= 1500 and real_p99 <= 50 and ratio >= 0.6
    Console().print(
        f"ratio real/bare per round: {', '.join(f'{r:.2f}' for r in ratios)}; median {ratio:.2f}\n"
        f"goals (>= 1,500 msg/s, p99 <= 50 ms, ratio >= 0.6): {'met' if goals else 'NOT met'}"
    )
    return 0 if goals else 1
