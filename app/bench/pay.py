"""``buchumen bench pay``: Alipay notices/s through verification and recording, against bare RSA2.

Each notice is a distinct paid order, signed as Alipay signs (before timing). Three ways through:
bare RSA2 verification of the same notices (the floor), the payment service's ``receive_notice``
(verify, check the order, record the notice, settle the order and ledger, queue the follow-up),
and the real ``/alipay/notify`` endpoint over HTTP with notices in flight. Then every notice is
sent again, as Alipay repeats one it thinks we missed.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp.test_utils import unused_port
from cryptography.hazmat.primitives.asymmetric import rsa
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from app.bench.figures import pct
from app.bench.goals import Report
from app.domain.payments import Order
from app.services.calendar import CalendarService
from app.services.cases import CaseService
from app.services.payment_records import ORDERS, order_to_doc
from app.services.payments import PaymentService
from app.settings import load_settings
from app.web.pay import serve_notices
from app.wiring.stores import open_documents
from payments.alipay import AlipayGateway, beijing_time
from payments.notifications import AlipayAccount
from payments.port import yuan
from payments.signing import new_key_pair, notification_content, rsa2_sign, rsa2_verify
from storage.documents import DocumentStore

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
APP_ID, SELLER_ID = "2021000122600001", "2088102180123456"
IN_FLIGHT = 16
AMOUNT = 1000
HTTP_RATE_GOAL = 1_000  # notices/s through POST /alipay/notify
HTTP_P99_GOAL_MS = 50.0


async def run_pay_bench(*, notices: int, console: Console, smoke: bool = False) -> Report:
    app_key, alipay_key = new_key_pair(), new_key_pair()
    public = alipay_key.public_key()
    account = AlipayAccount(APP_ID, SELLER_ID, public)
    with tempfile.TemporaryDirectory(prefix="buchumen-bench-") as tmp:
        settings = load_settings({}, demo=True, data_dir=Path(tmp), log_level="WARNING")
        async with open_documents(settings) as store, aiohttp.ClientSession() as session:
            cases = CaseService(store, CalendarService(store), clock=lambda: NOW)
            # The gateway is never called here: notices come in, nothing goes out.
            gateway = AlipayGateway(
                session,
                gateway_url="http://127.0.0.1:9/gateway.do",
                app_id=APP_ID,
                app_private_key=app_key,
                alipay_public_key=public,
            )
            port = unused_port()
            service = PaymentService(
                store,
                cases,
                gateway,
                account,
                public_base_url=f"http://127.0.0.1:{port}",
                clock=lambda: NOW,
            )
            batches = {}
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("签名通知（如支付宝所签）", total=2 * notices)
                for name in ("service", "http"):
                    batches[name] = await _orders_and_notices(
                        store, name, notices, alipay_key, lambda: progress.advance(task)
                    )

            bare = _bare(public, batches["service"])
            recorded = await _through(
                lambda p: _recorded(service, p), batches["service"], in_flight=IN_FLIGHT
            )
            http = await _over_http(service, port, batches["http"])
            repeats = await _over_http(service, port, batches["http"])
            paid = await store.count(ORDERS, {"status": "paid"})
    table = Table(title=f"Alipay notices: {notices} distinct paid orders per run")
    for column in ("path", "notices/s", "p50 ms", "p99 ms", "ratio to bare RSA2"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for name, run in (
        ("bare RSA2 verification", bare),
        (f"verify + record (service), {IN_FLIGHT} at once", recorded),
        (f"POST /alipay/notify, {IN_FLIGHT} in flight", http),
        ("same notices again (repeats)", repeats),
    ):
        table.add_row(
            name,
            f"{run.rate:,.0f}",
            f"{pct(run.samples, 50):.2f}",
            f"{pct(run.samples, 99):.2f}",
            f"{run.rate / bare.rate:.2f}",
        )
    console.print(table)
    report = Report("pay", smoke)
    unsettled = [f"{2 * notices - paid} orders not paid"] if paid != 2 * notices else []
    report.check("every order settled, once, repeats answered", unsettled, 2 * notices)
    report.add(
        f"POST /alipay/notify ≥ {HTTP_RATE_GOAL:,} notices/s",
        f"{http.rate:,.0f}",
        http.rate >= HTTP_RATE_GOAL,
    )
    p99 = pct(http.samples, 99)
    report.add(
        f"POST /alipay/notify p99 ≤ {HTTP_P99_GOAL_MS:g} ms",
        f"{p99:.1f} ms",
        p99 <= HTTP_P99_GOAL_MS,
    )
    return report


async def _orders_and_notices(
    store: DocumentStore,
    tag: str,
    count: int,
    key: rsa.RSAPrivateKey,
    tick: Callable[[], None],
) -> list[dict[str, str]]:
    """``count`` open orders in the store and Alipay's signed paid notice for each."""
    out = []
    async with store.transaction() as tx:
        for i in range(count):
            number = f"BC20261102{tag[:1].upper()}{i:05d}"
            order = Order(f"{number}P01", number, AMOUNT, "bench", NOW, NOW + timedelta(minutes=30))
            await tx.insert(ORDERS, order_to_doc(order))
            params = {
                "notify_id": f"{tag}-{i}",
                "notify_type": "trade_status_sync",
                "notify_time": beijing_time(NOW),
                "charset": "utf-8",
                "version": "1.0",
                "app_id": APP_ID,
                "seller_id": SELLER_ID,
                "trade_no": f"2026110222001{i:09d}",
                "out_trade_no": order.out_trade_no,
                "trade_status": "TRADE_SUCCESS",
                "total_amount": yuan(AMOUNT),
                "gmt_payment": beijing_time(NOW),
                "sign_type": "RSA2",
            }
            params["sign"] = rsa2_sign(key, notification_content(params))
            out.append(params)
            tick()
    return out


@dataclass
class Run:
    samples: list[float]  # ms per notice
    seconds: float  # wall time for all of them

    @property
    def rate(self) -> float:
        return len(self.samples) / self.seconds


def _bare(public: rsa.RSAPublicKey, notices: Sequence[dict[str, str]]) -> Run:
    samples = []
    start = time.perf_counter()
    for params in notices:
        t0 = time.perf_counter()
        if not rsa2_verify(public, notification_content(params), params["sign"]):
            raise RuntimeError("a notice signed for the bench failed to verify")
        samples.append((time.perf_counter() - t0) * 1000)
    return Run(samples, time.perf_counter() - start)


async def _recorded(service: PaymentService, params: dict[str, str]) -> None:
    if not await service.receive_notice(params):
        raise RuntimeError(f"notice {params['notify_id']} was refused")


async def _through(
    one: Callable[[dict[str, str]], Awaitable[None]],
    notices: Sequence[dict[str, str]],
    *,
    in_flight: int,
) -> Run:
    samples: list[float] = []
    gate = asyncio.Semaphore(in_flight)

    async def timed(params: dict[str, str]) -> None:
        async with gate:
            t0 = time.perf_counter()
            await one(params)
            samples.append((time.perf_counter() - t0) * 1000)

    start = time.perf_counter()
    await asyncio.gather(*(timed(p) for p in notices))
    return Run(samples, time.perf_counter() - start)


async def _over_http(service: PaymentService, port: int, notices: Sequence[dict[str, str]]) -> Run:
    runner = await serve_notices(service, port)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as alipay:

            async def post(params: dict[str, str]) -> None:
                async with alipay.post(service.notify_url, data=params) as resp:
                    if (answer := await resp.text()) != "success":
                        raise RuntimeError(f"notice {params['notify_id']} answered {answer!r}")

            return await _through(post, notices, in_flight=IN_FLIGHT)
    finally:
        await runner.cleanup()
