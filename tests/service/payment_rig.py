"""Payments end to end below the web pages: the real services on SQLite, our AlipayGateway and
notice endpoint, and the local Alipay (its own keys, its retry schedule compressed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from aiohttp.test_utils import unused_port
from cryptography.hazmat.primitives.asymmetric import rsa

from app.domain.actors import SYSTEM, Actor, Role
from app.domain.case_states import State
from app.domain.cases import MaterialRef
from app.domain.payments import owed_fen
from app.services import catalog
from app.services.calendar import CalendarService
from app.services.cases import CaseService
from app.services.payments import PaymentService
from app.settings import Settings
from app.web.pay import serve_notices
from app.wiring.demo import load_demo_data
from payments.alipay import AlipayGateway
from payments.notifications import AlipayAccount
from payments.simulator import (
    SIMULATOR,
    AlipaySimulator,
    compressed,
    create_alipay_simulator,
    start_alipay_simulator,
)
from payments.simulator.notifier import Notifier
from storage.documents import DocumentStore
from storage.outbox import OutboxDispatcher, OutboxMessage
from tests.conftest import Clock

APP_ID = "2021000122600001"
ME = Actor("wx-payer", Role.APPLICANT)
STRANGER = Actor("wx-other", Role.APPLICANT)
PREPAID = "驾驶证"  # the demo's paid matter: paid at submission (pay_before_review)
AFTER_APPROVAL_CODE = "TEST-FEE-AFTER-APPROVAL"


@dataclass
class Rig:
    store: DocumentStore
    cases: CaseService
    payments: PaymentService
    sim: AlipaySimulator
    clock: Clock
    browser: aiohttp.ClientSession
    chat: list[str] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)  # topics whose jobs fail, as in an outage

    async def run_jobs(self, *, max_attempts: int = 12) -> None:
        """Deliver every outbox message that is due, until none is left."""

        async def told(msg: OutboxMessage) -> None:
            self.chat.append(msg.payload["text"])

        handlers = self.payments.handlers() | {"notify.applicant": told}
        for topic in self.failing:
            handlers[topic] = _fail
        dispatcher = OutboxDispatcher(
            self.store, handlers, clock=self.clock, topics=handlers, max_attempts=max_attempts
        )
        while await dispatcher.dispatch_once():
            pass

    async def open(self, code: str | None = None, actor: Actor = ME) -> str:
        """A complete case submitted (for a paid-after-approval matter: and approved)."""
        matters = await catalog.list_matters(self.store)
        matter = next(m for m in matters if m.code == code or (code is None and PREPAID in m.name))
        case = await self.cases.open(actor, matter.code)
        for slot in case.terms.slots:
            ref = MaterialRef(f"cases/{case.number}/{slot.id}", "image/png", 10, "0" * 64)
            await self.cases.attach(actor, case.number, slot.id, ref, version=None)
        case = await self.cases.submit(actor, case.number, version=None)
        if case.state is State.SUBMITTED:
            reviewer = Actor("rev", Role.REVIEWER, department=case.terms.department)
            await self.cases.approve(reviewer, case.number, version=None)
        await self.run_jobs()
        return case.number

    async def open_cashier(self, number: str, actor: Actor = ME) -> str:
        """The payer's browser at Alipay's cashier: the trade exists from now; its trade_no."""
        url = (await self.payments.checkout(actor, number)).cashier_url
        async with self.browser.get(url, allow_redirects=False) as resp:
            assert resp.status == 302, await resp.text()
            return resp.headers["Location"].rsplit("/", 1)[-1]

    async def tap_pay(self, trade_no: str) -> str:
        """Tap 付款; Alipay notifies us (as often as it takes) and sends the browser back."""
        base = self.sim.base_url
        async with self.browser.post(f"{base}/cashier/{trade_no}/pay", allow_redirects=False) as r:
            back = r.headers.get("Location", "")
        await self.sim.notifier.idle()
        return back

    async def pay(self, number: str) -> None:
        await self.tap_pay(await self.open_cashier(number))
        await self.run_jobs()

    async def send_notice(
        self, params: dict[str, str], key: rsa.RSAPrivateKey | None = None
    ) -> str:
        """POST one notice to our endpoint as Alipay would (signed now, by ``key`` if given)."""
        signer = Notifier(private_key=key or self.sim.alipay_private_key)
        async with self.browser.post(self.payments.notify_url, data=signer.signed(params)) as r:
            return await r.text()

    async def state(self, number: str) -> State:
        return (await self.cases.get(SYSTEM, number)).state

    async def events(self, number: str) -> list[str]:
        return [e.action for e in await self.cases.history(SYSTEM, number)]

    async def balance(self, number: str) -> tuple[int, int, int]:
        """(paid, refunded, owed) in fen: the ledger adds up when paid − refunded == owed."""
        ledger = await self.payments.ledger(number)
        case = await self.cases.get(SYSTEM, number)
        return ledger.paid_fen, ledger.refunded_fen, owed_fen(case)

    def query(self, back: str) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}


async def _fail(msg: OutboxMessage) -> None:
    raise RuntimeError(f"{msg.topic} is down")


async def build_rig(
    store: DocumentStore,
    settings: Settings,
    clock: Clock,
    app_key: rsa.RSAPrivateKey,
    alipay_key: rsa.RSAPrivateKey,
) -> tuple[Rig, list[Any]]:
    """The rig, and what to clean up (runners and the session) in order."""
    await load_demo_data(store, settings, clock())
    await _add_after_approval_matter(store, settings, clock())
    sim_app = create_alipay_simulator(
        app_id=APP_ID,
        app_public_key=app_key.public_key(),
        alipay_private_key=alipay_key,
        clock=clock,
        notify_schedule=compressed(0.0002),  # 0 s, 48 ms, 120 ms, ... about 18 s in all
        notify_timeout=2,
    )
    sim_runner, gateway_url = await start_alipay_simulator(sim_app)
    sim = sim_app[SIMULATOR]
    session = aiohttp.ClientSession()
    port = unused_port()
    cases = CaseService(store, CalendarService(store), clock=clock)
    payments = PaymentService(
        store,
        cases,
        AlipayGateway(
            session,
            gateway_url=gateway_url,
            app_id=APP_ID,
            app_private_key=app_key,
            alipay_public_key=alipay_key.public_key(),
        ),
        AlipayAccount(APP_ID, sim.seller_id, alipay_key.public_key()),
        public_base_url=f"http://127.0.0.1:{port}",
        clock=clock,
    )
    runner = await serve_notices(payments, port)
    rig = Rig(store, cases, payments, sim, clock, session)
    return rig, [runner, sim_runner, session]


async def _add_after_approval_matter(
    store: DocumentStore, settings: Settings, now: datetime
) -> None:
    """The demo's paid matter, but paid after approval (the default for a matter)."""
    [paid] = [m for m in catalog.load_catalog([settings.catalog_dir]) if m.fees]
    variant = paid.model_copy(
        update={"code": AFTER_APPROVAL_CODE, "name": "测试收费事项", "pay_before_review": False}
    )
    await catalog.import_catalog(store, [variant], actor="test", now=now)


__all__ = ["ME", "STRANGER", "Rig", "build_rig"]
