"""The work done behind the requests: outbox dispatchers, one per kind of work, and the jobs
that run every so often (reconciliation, the Art. 32 sweep, reminders, purges)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timedelta

import structlog
from aiohttp import web

from app import keys
from app.domain.cases import china_date
from app.services.calendar import CalendarService
from app.services.case_effects import CERTIFICATE_TOPIC, DEPOSIT_TOPIC, PRECHECK_TOPIC
from app.services.mandates import CLAIM_TOPIC
from app.services.proxy_requests import EVIDENCE_TOPIC
from app.services.space import SPACE_CHECK_TOPIC
from app.settings import Settings
from bot.client import WeChatClient, WeChatNoAnswer
from bot.inbound import purge_receipts
from ocr.precheck import Prechecker
from storage.documents import DocumentStore
from storage.outbox import OUTBOX, SHUTDOWN_GRACE, Handler, OutboxDispatcher, purge_done

log = structlog.get_logger(__name__)
OUTBOX_KEEP = timedelta(days=14)  # delivered messages (and their idempotency keys) kept this long
Clock = Callable[[], datetime]
NOT_WECHAT = frozenset({DEPOSIT_TOPIC, CERTIFICATE_TOPIC})  # on the chat's dispatcher, for order


def background_ctx(
    settings: Settings, clock: Clock, *, warm_ocr: bool
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that runs the dispatchers and periodic jobs while the app serves.

    ``warm_ocr`` loads the OCR models at start (serving), not at the first photo (tests).
    """

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        store = app[keys.DOCUMENTS]

        def dispatcher(
            name: str, jobs: Mapping[str, Handler], workers: int = 1
        ) -> asyncio.Task[None]:
            running = OutboxDispatcher(store, jobs, clock=clock, topics=jobs, concurrency=workers)
            return start(name, running)

        def start(name: str, running: OutboxDispatcher) -> asyncio.Task[None]:
            store.watch(OUTBOX, running.wake)  # woken by every commit that queues
            return asyncio.create_task(running.run(stop), name=name)

        chat_jobs = app[keys.MESSENGER].handlers() | {
            DEPOSIT_TOPIC: app[keys.SPACE].deposit_from_case,
            CERTIFICATE_TOPIC: app[keys.CERTIFICATES].issue,
        }
        wechat = chat_dispatcher(store, chat_jobs, app[keys.WECHAT_CLIENT], clock)
        ocr_jobs = {
            PRECHECK_TOPIC: app[keys.PRECHECKS].handle,
            SPACE_CHECK_TOPIC: app[keys.PRECHECKS].check_for_space,
            CLAIM_TOPIC: app[keys.PRECHECKS].check_licence_claim,
            EVIDENCE_TOPIC: app[keys.PROXIES].check_evidence,
        }
        # Each kind of work on its own, so that a slow one never holds up another: chat notices
        # one at a time and in order, photos one per OCR worker, Alipay, the real-name register
        # and the courier each apart.
        tasks = [
            start("outbox", wechat),
            dispatcher("outbox-ocr", ocr_jobs, settings.ocr_workers),
            dispatcher("outbox-payments", app[keys.PAYMENT_SERVICE].handlers()),
            dispatcher("outbox-identity", app[keys.BINDING].handlers()),
        ]
        if courier_jobs := app[keys.SHIPMENTS].handlers():
            tasks.append(dispatcher("outbox-courier", courier_jobs))
        for seconds, job in (
            (300, app[keys.PAYMENT_SERVICE].reconcile),
            (300, app[keys.CASES].deem_overdue_accepted),
            (900, app[keys.URGING].push_cards),  # 督办: yellow and red cards, once each
            (3600, lambda: purge_receipts(store, clock())),
            (6 * 3600, app[keys.SPACE].purge),
            (6 * 3600, lambda: purge_done(store, clock(), keep=OUTBOX_KEEP)),
            (3600, app[keys.SPACE].remind_expiring),
            (3600, app[keys.APPOINTMENTS].remind_tomorrow),
            (900, app[keys.APPOINTMENTS].mark_no_shows),
            (6 * 3600, app[keys.CUSTODY].purge_codes),
            (3600, app[keys.ACCOUNTS].purge),  # sign-in attempts and sign-outs past their use
            (24 * 3600, lambda: _warn_provisional(app[keys.CALENDAR], clock())),
        ):
            tasks.append(asyncio.create_task(_every(seconds, job, stop)))
        if warm_ocr:
            tasks.append(asyncio.create_task(_warm_up(app[keys.PRECHECKER]), name="ocr-warm-up"))
        yield
        stop.set()
        # The dispatchers finish what they are running (briefly); whatever is left is cut.
        await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE + 1)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    return ctx


def chat_dispatcher(
    store: DocumentStore, jobs: Mapping[str, Handler], client: WeChatClient, clock: Clock
) -> OutboxDispatcher:
    """The chat's dispatcher, one message at a time, in order. A send WeChat left unanswered
    may have reached the phone: after two in a row, the next waits and goes out only once
    WeChat answers a harmless question (``client.ping``), so a lost answer makes no storm."""
    to_wechat = {topic: client.ping for topic in jobs if topic not in NOT_WECHAT}
    return OutboxDispatcher(
        store, jobs, clock=clock, topics=jobs, unanswered=(WeChatNoAnswer,), probes=to_wechat
    )


async def _warn_provisional(calendars: CalendarService, now: datetime) -> None:
    """Say at start and daily which years count days on the law's festivals alone."""
    for year in await calendars.uncovered_years(china_date(now)):
        log.warning(
            "calendar_provisional",
            year=year,
            hint="enter the State Council's schedule: buchumen calendar set …, then confirm",
        )


async def _warm_up(prechecker: Prechecker) -> None:
    try:
        await prechecker.warm_up()
        log.info("ocr_ready", engine=prechecker.engine)
    except Exception:  # the first photo will try again; serving must not stop for this
        log.exception("ocr_warm_up_failed", engine=prechecker.engine)


async def _every(seconds: float, job: Callable[[], object], stop: asyncio.Event) -> None:
    """Run ``job`` now and then every ``seconds`` until ``stop``; a failure is logged, not fatal."""
    while not stop.is_set():
        try:
            result = job()
            if asyncio.iscoroutine(result):
                await result
        except Exception:
            log.exception("periodic_job_failed", job=getattr(job, "__name__", str(job)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
