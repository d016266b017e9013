"""Collecting a case's catalog fee through the payment port, and giving back what is not owed.

Alipay's answers reach us three ways, and each ends in the same small transaction
(``payment_settlement.settle``): a verified notice (``payment_notices``), the reconciliation
query (``payment_reconciliation``), or the applicant coming back from the cashier. Whatever
settles an order first wins the order's compare-and-set; the others change nothing. What
follows a payment (advancing the case, refunding a duplicate or a withdrawn case) is the
``payment.settle`` outbox job (``payment_jobs``), so a crash after a notice is recorded is
finished on restart. Problems and figures for supervisors are ``payment_issues``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.actors import Actor
from app.domain.case_states import LABELS_ZH, State
from app.domain.cases import Case
from app.domain.errors import InvalidTransition, ValidationFailed
from app.domain.payments import Ledger, Order, OrderStatus, new_order
from app.services.case_effects import SETTLE_TOPIC
from app.services.cases import CaseService
from app.services.payment_issues import payment_figures, report_issue, retry_job
from app.services.payment_jobs import PaymentJobs
from app.services.payment_notices import receive_notice
from app.services.payment_reconciliation import reconcile, reconcile_one
from app.services.payment_records import ORDERS, order_from_doc, order_to_doc
from app.services.payment_settlement import (
    CLOSE_TOPIC,
    QUERY_TOPIC,
    REFUND_TOPIC,
    RETRIES,
    queue_job,
    read_ledger,
    read_orders,
)
from payments.notifications import AlipayAccount
from payments.port import PaymentGateway, PaymentOrder
from storage.documents import DocumentStore, DuplicateKey
from storage.outbox import OutboxMessage

NOT_OFFERED = "暂未开通在线缴费，请携带办件号到办事大厅窗口缴费，给您带来不便敬请谅解"


@dataclass(frozen=True)
class Checkout:
    """Where to send the payer: the attempt and its signed cashier URL."""

    order: Order
    cashier_url: str


@dataclass(frozen=True)
class Statement:
    """A case's payments as its owner (or its department) may see them."""

    case: Case
    orders: list[Order]
    ledger: Ledger


class PaymentService:
    def __init__(
        self,
        store: DocumentStore,
        cases: CaseService,
        gateway: PaymentGateway | None,
        account: AlipayAccount | None,
        *,
        public_base_url: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._cases = cases
        self._gateway = gateway
        self._account = account
        self._base = public_base_url.rstrip("/")
        self._clock = clock
        self._jobs = PaymentJobs(store, cases, gateway, clock=clock)

    @property
    def notify_url(self) -> str:
        return f"{self._base}/alipay/notify"

    @property
    def offered(self) -> bool:
        return self._gateway is not None and self._account is not None

    def handlers(self) -> dict[str, Callable[[OutboxMessage], Any]]:
        """The outbox jobs that talk to the provider (empty when payments are not offered)."""
        if not self.offered:
            return {}
        return {
            SETTLE_TOPIC: self.settle_case,
            REFUND_TOPIC: self.refund,
            CLOSE_TOPIC: self.close,
            QUERY_TOPIC: self.query,
        }

    # -- the applicant ------------------------------------------------------------------------

    async def checkout(self, actor: Actor, number: str) -> Checkout:
        """The cashier URL for the case's fee: the open attempt if it has time left, else a new one.

        Building the URL is signing, not a call: the trade exists once the browser opens it.
        """
        if self._gateway is None:
            raise ValidationFailed(NOT_OFFERED)
        case = await self._cases.get(actor, number)  # another's case: not found
        if case.state is not State.AWAITING_PAYMENT:
            label = LABELS_ZH[case.state]
            raise InvalidTransition(f"办件当前状态为“{label}”，无需缴费；如有疑问请查看办件详情")
        now = self._clock()
        for _ in range(RETRIES):
            orders = await self.orders(number)
            order = next((o for o in reversed(orders) if o.reusable(now)), None)
            if order is not None:
                break
            order = new_order(case, len(orders) + 1, now)
            try:
                async with self._store.transaction() as tx:
                    await tx.insert(ORDERS, order_to_doc(order))
                    for stale in orders:  # an earlier page left open: no second payment by it
                        if stale.status is OrderStatus.OPEN:
                            key = f"close:{stale.out_trade_no}"
                            job = {"out_trade_no": stale.out_trade_no}
                            await queue_job(tx, CLOSE_TOPIC, key, now, job)
                break
            except DuplicateKey:
                continue  # a second tap made the same attempt meanwhile: use that one
        else:
            raise InvalidTransition("缴费单正在生成，请稍后再试")
        asked = PaymentOrder(order.out_trade_no, order.amount_fen, order.subject, order.expires_at)
        url = await self._gateway.create_payment(
            asked,
            notify_url=self.notify_url,
            return_url=f"{self._base}/h5/cases/{number}/pay",
        )
        return Checkout(order, url)

    async def statement(self, actor: Actor, number: str) -> Statement:
        """The case's fee, attempts and ledger, for whoever may see the case."""
        case = await self._cases.get(actor, number)  # another's case: not found
        return Statement(case, await self.orders(number), await self.ledger(number))

    async def check_soon(self, number: str, out_trade_no: str) -> None:
        """The payer is back from the cashier: ask Alipay about the order now (once)."""
        doc = await self._store.get(ORDERS, out_trade_no)
        if self._gateway is None or doc is None or doc["case"] != number:
            return
        if doc["status"] != OrderStatus.OPEN.value:
            return
        async with self._store.transaction() as tx:
            job = {"out_trade_no": out_trade_no}
            await queue_job(tx, QUERY_TOPIC, f"query:{out_trade_no}", self._clock(), job)

    async def orders(self, number: str) -> list[Order]:
        return await read_orders(self._store, number)

    async def ledger(self, number: str) -> Ledger:
        return await read_ledger(self._store, number)

    # -- what Alipay tells us -----------------------------------------------------------------

    async def receive_notice(self, params: Mapping[str, str], *, sender: str = "") -> bool:
        """Alipay's asynchronous notice; True (answer ``success``) once it is durably recorded.

        ``sender`` (the posting address) bounds what a forger can make us keep.
        """
        assert self._account is not None, "notices arrive only where payments are offered"
        now = self._clock()
        return await receive_notice(self._store, self._account, params, now, sender=sender)

    async def reconcile(self, *, limit: int = 200) -> int:
        """Ask Alipay about orders still open a while after they were made; settle or close them.

        Returns how many orders changed.
        """
        if self._gateway is None:
            return 0
        return await reconcile(self._store, self._gateway, self._clock(), limit=limit)

    # -- outbox jobs ----------------------------------------------------------------------------

    async def settle_case(self, msg: OutboxMessage) -> None:
        """Bring the case's ledger to what it owes: confirm the payment, or refund the excess."""
        await self._jobs.settle_case(msg)

    async def refund(self, msg: OutboxMessage) -> None:
        """Make one promised refund; asking again with its out_request_no is harmless."""
        await self._jobs.refund(msg)

    async def query(self, msg: OutboxMessage) -> None:
        doc = await self._store.get(ORDERS, msg.payload["out_trade_no"])
        if doc is None or doc["status"] != OrderStatus.OPEN.value:
            return
        assert self._gateway is not None
        await reconcile_one(self._store, self._gateway, order_from_doc(doc), self._clock())

    async def close(self, msg: OutboxMessage) -> None:
        await self._jobs.close_order(msg.payload["out_trade_no"])

    async def close_order(self, out_trade_no: str) -> None:
        """Close an unpaid order at Alipay, then here; one never opened stays for reconcile."""
        await self._jobs.close_order(out_trade_no)

    # -- for supervisors -----------------------------------------------------------------------

    async def report(
        self,
        source: str,
        reason: str,
        params: Mapping[str, Any],
        now: datetime,
        *,
        case: str | None = None,
    ) -> None:
        """Keep a payment problem for supervisors, once per distinct content."""
        await report_issue(self._store, source, reason, params, now, case=case)

    async def figures(self, days: int) -> dict[str, Any]:
        """Money in and out over the last ``days``, what is still pending, and recent issues."""
        return await payment_figures(self._store, self._clock(), days)

    async def retry(self, actor: Actor, key: str) -> None:
        """A supervisor sends a payment job that gave up back to work (e.g. a refund Alipay
        refused until the merchant account was topped up)."""
        await retry_job(self._store, actor, key, self._clock())
