"""The work done behind the requests: outbox dispatchers, one per kind of work, and the jobs
that run every so often (reconciliation, the Art. 32 sweep, reminders, purges)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timedelta

import structlog
from aiohttp import web

from app import keys
from app.domain.cases import china_date
from app.services.binding import TEXT_TOPIC
from app.services.calendar import CalendarService
from app.services.case_effects import CERTIFICATE_TOPIC, DEPOSIT_TOPIC, PRECHECK_TOPIC
from app.services.mandate_changes import NOTIFY_PERSON
from app.services.mandates import CLAIM_TOPIC
from app.services.notify import NOTIFY_TOPIC
from app.services.object_sweep import sweep_orphans
from app.services.proxy_requests import EVIDENCE_TOPIC
from app.services.space import SPACE_CHECK_TOPIC
from app.settings import Settings
from bot.client import WeChatClient, WeChatNoAnswer
from bot.inbound import purge_receipts
from ocr.precheck import Prechecker
from storage.documents import DocumentStore
from storage.outbox import OUTBOX, SHUTDOWN_GRACE, Handler, OutboxDispatcher, purge_done
from storage.periodic import claim_slot, purge_runs

log = structlog.get_logger(__name__)
OUTBOX_KEEP = timedelta(days=14)  # delivered messages (and their idempotency keys) kept this long
Clock = Callable[[], datetime]
NOT_WECHAT = frozenset({DEPOSIT_TOPIC, CERTIFICATE_TOPIC})  # on the chat's dispatcher, for order
# Whose messages go one after another (the payload field naming them): a case's 补正告知 never
# arrives after the 预审通过 that followed it, even when the first send failed or was cut off.
LANES = {NOTIFY_TOPIC: "applicant_id", NOTIFY_PERSON: "person", TEXT_TOPIC: "openid"}
# The periodic jobs, each run once per period (seconds) across every instance on the store.
PERIODS = {
    "reconcile": 300,
    "art32-sweep": 300,
    "urge-cards": 900,
    "no-shows": 900,
    "purge-receipts": 3600,
    "remind-expiring": 3600,
    "remind-tomorrow": 3600,
    "purge-accounts": 3600,
    "purge-idempotency": 3600,
    "purge-space": 6 * 3600,
    "purge-outbox": 6 * 3600,
    "purge-codes": 6 * 3600,
    "purge-runs": 6 * 3600,
    "sweep-objects": 24 * 3600,
}


def background_ctx(
    settings: Settings,
    clock: Clock,
    *,
    warm_ocr: bool,
    stopping: asyncio.Event | None = None,
    web_work: bool = True,
    ocr_work: bool = True,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that runs the dispatchers and periodic jobs while the app serves.

    ``web_work``: the chat, payment, identity and courier dispatchers and the periodic jobs
    (``buchumen serve``); ``ocr_work``: the pre-check dispatcher and its OCR pool (``serve``
    unless ``BUCHUMEN_OCR_IN_WEB=false``, and ``buchumen worker``).
    ``warm_ocr`` loads the OCR models at start (serving), not at the first photo (tests).
    ``stopping``: set when the service begins to stop, so the work winds down while the
    requests in flight are answered; else it winds down at cleanup.
    """
    # Half the service's grace at most: the stores close after the dispatchers.
    grace = min(SHUTDOWN_GRACE, settings.shutdown_grace / 2)

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        stop = stopping or asyncio.Event()
        store = app[keys.DOCUMENTS]

        def start(name: str, running: OutboxDispatcher) -> asyncio.Task[None]:
            # Woken by every commit of this process that queues; what another process queues
            # is found by the dispatcher's poll (every half second: OutboxDispatcher.run).
            store.watch(OUTBOX, running.wake)
            return asyncio.create_task(running.run(stop, grace=grace), name=name)

        tasks = _web_work(app, clock, start, stop) if web_work else []
        if ocr_work:
            jobs = ocr_jobs(app)
            workers = settings.ocr_workers  # one photo per OCR worker at a time
            ocr = OutboxDispatcher(store, jobs, clock=clock, topics=jobs, concurrency=workers)
            tasks.append(start("outbox-ocr", ocr))
            if warm_ocr:
                warming = _warm_up(app[keys.PRECHECKER], app.get(keys.OCR_WARM))
                tasks.append(asyncio.create_task(warming, name="ocr-warm-up"))
        yield
        stop.set()
        # The dispatchers finish what they are running (briefly); whatever is left is cut.
        await asyncio.wait(tasks, timeout=grace + 1)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    return ctx


def ocr_jobs(app: web.Application) -> dict[str, Handler]:
    """The pre-check work: every job that runs a photo through the OCR pool."""
    return {
        PRECHECK_TOPIC: app[keys.PRECHECKS].handle,
        SPACE_CHECK_TOPIC: app[keys.PRECHECKS].check_for_space,
        CLAIM_TOPIC: app[keys.PRECHECKS].check_licence_claim,
        EVIDENCE_TOPIC: app[keys.PROXIES].check_evidence,
    }


def _web_work(
    app: web.Application,
    clock: Clock,
    start: Callable[[str, OutboxDispatcher], asyncio.Task[None]],
    stop: asyncio.Event,
) -> list[asyncio.Task[None]]:
    """Every dispatcher but the OCR one, and the periodic jobs, started."""
    store = app[keys.DOCUMENTS]

    def dispatcher(name: str, jobs: Mapping[str, Handler]) -> asyncio.Task[None]:
        return start(name, OutboxDispatcher(store, jobs, clock=clock, topics=jobs))

    chat_jobs = app[keys.MESSENGER].handlers() | {
        DEPOSIT_TOPIC: app[keys.SPACE].deposit_from_case,
        CERTIFICATE_TOPIC: app[keys.CERTIFICATES].issue,
    }
    # Each kind of work on its own, so that a slow one never holds up another: chat notices
    # one at a time and in order, Alipay, the real-name register and the courier each apart
    # (and photos on the OCR dispatcher, one per OCR worker).
    tasks = [
        start("outbox", chat_dispatcher(store, chat_jobs, app[keys.WECHAT_CLIENT], clock)),
        dispatcher("outbox-payments", app[keys.PAYMENT_SERVICE].handlers()),
        dispatcher("outbox-identity", app[keys.BINDING].handlers()),
    ]
    if courier_jobs := app[keys.SHIPMENTS].handlers():
        tasks.append(dispatcher("outbox-courier", courier_jobs))
    # Once per period across every instance on this store (storage/periodic.py).
    holder = f"{socket.gethostname()}:{os.getpid()}"
    jobs: dict[str, Callable[[], object]] = {
        "reconcile": app[keys.PAYMENT_SERVICE].reconcile,
        "art32-sweep": app[keys.CASES].deem_overdue_accepted,
        "urge-cards": app[keys.URGING].push_cards,  # 督办: each card once per colour
        "purge-receipts": lambda: purge_receipts(store, clock()),
        "purge-space": app[keys.SPACE].purge,
        "purge-outbox": lambda: purge_done(store, clock(), keep=OUTBOX_KEEP),
        "remind-expiring": app[keys.SPACE].remind_expiring,
        "remind-tomorrow": app[keys.APPOINTMENTS].remind_tomorrow,
        "no-shows": app[keys.APPOINTMENTS].mark_no_shows,
        "purge-codes": app[keys.CUSTODY].purge_codes,
        "purge-accounts": app[keys.ACCOUNTS].purge,  # attempts and old sign-outs
        "purge-idempotency": app[keys.OPENINGS].purge,  # keys past their 24 hours
        "purge-runs": lambda: purge_runs(store, clock()),
        # Objects no document names, a day old: a crash between a photo and its case.
        "sweep-objects": lambda: sweep_orphans(store, app[keys.OBJECTS], clock()),
    }
    for name, job in jobs.items():
        seconds = PERIODS[name]
        claim = functools.partial(claim_slot, store, name, seconds, holder=holder)
        tasks.append(asyncio.create_task(_every(seconds, job, stop, claim=claim, clock=clock)))
    # Said by every instance, at its start and daily after.
    warn = functools.partial(_warn_provisional, app[keys.CALENDAR], clock)
    tasks.append(asyncio.create_task(_every(24 * 3600, warn, stop)))
    return tasks


def chat_dispatcher(
    store: DocumentStore, jobs: Mapping[str, Handler], client: WeChatClient, clock: Clock
) -> OutboxDispatcher:
    """The chat's dispatcher, one message at a time, in order. A send WeChat left unanswered
    may have reached the phone: after two in a row, the next waits and goes out only once
    WeChat answers a harmless question (``client.ping``), so a lost answer makes no storm.
    Each person's notices keep their order through failures and restarts (``LANES``)."""
    to_wechat = {topic: client.ping for topic in jobs if topic not in NOT_WECHAT}
    return OutboxDispatcher(
        store,
        jobs,
        clock=clock,
        topics=jobs,
        unanswered=(WeChatNoAnswer,),
        probes=to_wechat,
        lanes={topic: field for topic, field in LANES.items() if topic in jobs},
    )


async def _warn_provisional(calendars: CalendarService, clock: Clock) -> None:
    """Say at start and daily which years count days on the law's festivals alone."""
    for year in await calendars.uncovered_years(china_date(clock())):
        log.warning(
            "calendar_provisional",
            year=year,
            hint="enter the State Council's schedule: buchumen calendar set …, then confirm",
        )


async def _warm_up(prechecker: Prechecker, warm: asyncio.Event | None) -> None:
    try:
        await prechecker.warm_up()
        log.info("ocr_ready", engine=prechecker.engine)
    except Exception:  # the first photo will try again; serving must not stop for this
        log.exception("ocr_warm_up_failed", engine=prechecker.engine)
    finally:
        if warm is not None:
            warm.set()


async def _every(
    seconds: float,
    job: Callable[[], object],
    stop: asyncio.Event,
    *,
    claim: Callable[..., Awaitable[bool]] | None = None,
    clock: Clock | None = None,
) -> None:
    """Run ``job`` now and then every ``seconds`` until ``stop``; a failure is logged, not fatal.

    With ``claim``, only in the periods this instance claims (one instance per period), waking
    just after each period starts so that no period goes by unclaimed.
    """
    while not stop.is_set():
        try:
            if claim is None or clock is None or await claim(clock()):
                result = job()
                if asyncio.iscoroutine(result):
                    await result
        except Exception:
            log.exception("periodic_job_failed", job=getattr(job, "__name__", str(job)))
        wait = seconds
        if claim is not None:  # to the next period's start, plus a little so clocks agree
            wait = seconds - time.time() % seconds + min(1 + os.getpid() % 9, seconds / 10)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)
