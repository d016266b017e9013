"""Collecting a case's catalog fee through the payment port, and giving back what is not owed.

Alipay's answers reach us three ways, and each ends in the same small transaction (``_settle``):
a verified notice, the reconciliation query, or the applicant coming back from the cashier.
Whatever settles an order first wins the order's compare-and-set; the others change nothing.
What follows a payment (advancing the case, refunding a duplicate or a withdrawn case) is the
``payment.settle`` outbox job, so a crash after a notice is recorded is finished on restart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from app.domain.actors import SYSTEM, Actor, Role
from app.domain.case_states import LABELS_ZH, State
from app.domain.cases import Case
from app.domain.errors import InvalidTransition, NotFoundError, NotPermitted, ValidationFailed
from app.domain.payments import (
    Ledger,
    Order,
    OrderStatus,
    new_order,
    owed_fen,
    refund_reason,
    refund_text,
)
from app.services.case_effects import SETTLE_TOPIC
from app.services.cases import CaseService
from app.services.payment_records import (
    ISSUES,
    LEDGERS,
    NOTICES,
    ORDERS,
    ledger_from_doc,
    ledger_to_doc,
    order_from_doc,
    order_to_doc,
)
from payments.notifications import (
    AlipayAccount,
    ExpectedOrder,
    NotificationRejected,
    claimed_out_trade_no,
)
from payments.port import (
    GatewayRefused,
    GatewayUnavailable,
    PaymentGateway,
    PaymentOrder,
    TradeNotFound,
    TradeStatus,
)
from storage.documents import Document, DocumentStore, DuplicateKey, Transaction, VersionConflict
from storage.outbox import OUTBOX, OutboxMessage, enqueue, requeue

log = structlog.get_logger(__name__)
REFUND_TOPIC = "payment.refund"
CLOSE_TOPIC = "payment.close"
QUERY_TOPIC = "payment.query"
PAYMENT_TOPICS = [SETTLE_TOPIC, REFUND_TOPIC, CLOSE_TOPIC, QUERY_TOPIC]
QUIET = timedelta(minutes=2)  # a fresh order's notice usually comes first: query after this
NOT_OFFERED = "暂未开通在线缴费，请携带办件号到办事大厅窗口缴费，给您带来不便敬请谅解"
_RETRIES = 5  # a unit of work lost a compare-and-set to a concurrent one: read again and retry


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
        for _ in range(_RETRIES):
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
                            await self._queue(
                                tx,
                                CLOSE_TOPIC,
                                f"close:{stale.out_trade_no}",
                                now,
                                {"out_trade_no": stale.out_trade_no},
                            )
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
            await self._queue(tx, QUERY_TOPIC, f"query:{out_trade_no}", self._clock(), job)

    async def orders(self, number: str) -> list[Order]:
        docs = await self._store.find(ORDERS, {"case": number}, sort=[("created_at", 1)])
        return [order_from_doc(d) for d in docs]

    async def ledger(self, number: str) -> Ledger:
        doc = await self._store.get(LEDGERS, number)
        return ledger_from_doc(doc) if doc else Ledger(number)

    # -- what Alipay tells us -----------------------------------------------------------------

    async def receive_notice(self, params: Mapping[str, str]) -> bool:
        """Alipay's asynchronous notice; True (answer ``success``) once it is durably recorded.

        A repeat, or a notice for an order the query already settled, changes nothing. A notice
        that fails verification is kept for the supervisors and changes nothing else.
        """
        assert self._account is not None, "notices arrive only where payments are offered"
        now = self._clock()
        claimed = claimed_out_trade_no(params)
        doc = await self._store.get(ORDERS, claimed) if claimed else None
        if doc is None:
            await self.report("notice", "unknown out_trade_no", params, now)
            return False
        order = order_from_doc(doc)
        try:
            notice = self._account.verify(
                params, ExpectedOrder(order.out_trade_no, order.amount_fen)
            )
        except NotificationRejected as e:
            await self.report("notice", e.reason, params, now, case=order.case)
            return False
        notice_id = notice.notify_id or _digest(params)
        for _ in range(_RETRIES):
            try:
                async with self._store.transaction() as tx:
                    if await tx.get(NOTICES, notice_id) is not None:
                        return True  # Alipay repeating a notice we answered too late
                    await tx.insert(NOTICES, _notice_doc(notice_id, order.case, params, now))
                    if notice.paid:
                        await self._settle(tx, order.out_trade_no, notice.trade_no, now, "notice")
                    elif notice.status is TradeStatus.TRADE_CLOSED:
                        await self._mark_closed(tx, order.out_trade_no)
                break
            except (VersionConflict, DuplicateKey):
                continue  # the query or a twin notice settled it meanwhile: look again
        return True

    async def reconcile(self, *, limit: int = 200) -> int:
        """Ask Alipay about orders still open a while after they were made; settle or close them.

        Returns how many orders changed. Notices can be lost (our outage outlasting Alipay's
        25 hours of retries, a firewall): the query is the other way the money is found.
        """
        if self._gateway is None:
            return 0
        now = self._clock()
        where = {"status": OrderStatus.OPEN.value, "created_at": {"$lt": (now - QUIET).isoformat()}}
        docs = await self._store.find(ORDERS, where, sort=[("created_at", 1)], limit=limit)
        changed = 0
        for doc in docs:
            order = order_from_doc(doc)
            try:
                changed += await self._reconcile_one(order, now)
            except GatewayUnavailable as e:
                log.warning("payment_query_failed", out_trade_no=order.out_trade_no, error=str(e))
        return changed

    async def _reconcile_one(self, order: Order, now: datetime) -> int:
        assert self._gateway is not None
        try:
            trade = await self._gateway.query(order.out_trade_no)
        except TradeNotFound:
            # Never opened. Its signed URL carries time_expire, so after that it cannot be.
            if now <= order.expires_at + QUIET:
                return 0
            trade = None
        if trade is not None and trade.status.paid:
            if trade.total_fen != order.amount_fen:
                await self.report(
                    "query",
                    f"paid {trade.total_fen} fen, the order says {order.amount_fen}",
                    {"out_trade_no": order.out_trade_no},
                    now,
                    case=order.case,
                )
                return 0
            return await self._settle_alone(order.out_trade_no, trade.trade_no, now, "query")
        if trade is not None and trade.status is TradeStatus.WAIT_BUYER_PAY:
            if now <= order.expires_at:
                return 0
            await self._gateway.close(order.out_trade_no)  # past its time: no late payment
        async with self._store.transaction() as tx:
            return int(await self._mark_closed(tx, order.out_trade_no))

    async def _settle_alone(self, out_trade_no: str, trade_no: str, now: datetime, by: str) -> int:
        for _ in range(_RETRIES):
            try:
                async with self._store.transaction() as tx:
                    return int(await self._settle(tx, out_trade_no, trade_no, now, by))
            except (VersionConflict, DuplicateKey):
                continue
        return 0

    async def _settle(
        self, tx: Transaction, out_trade_no: str, trade_no: str, now: datetime, by: str
    ) -> bool:
        """The order paid, the payment in the case's ledger, the follow-up job queued: together."""
        doc = await tx.get(ORDERS, out_trade_no)
        assert doc is not None
        order = order_from_doc(doc)
        if not order.settle(trade_no, now, by):
            return False  # already settled by the other way Alipay told us
        await tx.replace(ORDERS, order_to_doc(order), expected_version=order.version)
        ledger_doc = await tx.get(LEDGERS, order.case)
        ledger = ledger_from_doc(ledger_doc) if ledger_doc else Ledger(order.case)
        ledger.record_payment(out_trade_no, order.amount_fen)
        await self._save_ledger(tx, ledger, new=ledger_doc is None)
        job = {"case": order.case, "out_trade_no": out_trade_no}
        await self._queue(tx, SETTLE_TOPIC, f"settle:{out_trade_no}", now, job)
        log.info("payment_settled", case=order.case, out_trade_no=out_trade_no, by=by)
        return True

    async def _mark_closed(self, tx: Transaction, out_trade_no: str) -> bool:
        doc = await tx.get(ORDERS, out_trade_no)
        if doc is None or doc["status"] != OrderStatus.OPEN.value:
            return False
        await tx.replace(
            ORDERS, doc | {"status": OrderStatus.CLOSED.value}, expected_version=doc["_version"]
        )
        return True

    # -- outbox jobs ----------------------------------------------------------------------------

    async def settle_case(self, msg: OutboxMessage) -> None:
        """Bring the case's ledger to what it owes: confirm the payment, or refund the excess.

        Run after every payment and every withdrawal or refusal of a case with a fee; doing it
        twice does nothing the first did not.
        """
        number = msg.payload["case"]
        case = await self._cases.get(SYSTEM, number)
        ledger = await self.ledger(number)
        if case.state is State.AWAITING_PAYMENT and ledger.held_fen >= case.terms.fee_fen > 0:
            first = await self._store.get(ORDERS, next(iter(ledger.payments)))
            trade_no = first["trade_no"] if first else ""
            case = await self._cases.confirm_payment(number, trade_no=trade_no)
        now = self._clock()
        if case.state is not State.AWAITING_PAYMENT:
            for order in await self.orders(number):
                if order.status is OrderStatus.OPEN:  # nothing more to pay: close the pages
                    await self.close_order(order.out_trade_no)
        owed = owed_fen(case)
        for _ in range(_RETRIES):
            doc = await self._store.get(LEDGERS, number)
            if doc is None:
                return
            ledger = ledger_from_doc(doc)
            planned = ledger.plan_refunds(owed, refund_reason(case), now)
            if not planned:
                return
            try:
                async with self._store.transaction() as tx:
                    await self._save_ledger(tx, ledger)
                    for refund in planned:
                        job = {"case": number, "out_request_no": refund.out_request_no}
                        await self._queue(
                            tx, REFUND_TOPIC, f"refund:{refund.out_request_no}", now, job
                        )
                return
            except VersionConflict:
                continue
        raise RuntimeError(f"the ledger of {number} kept changing; trying again later")

    async def refund(self, msg: OutboxMessage) -> None:
        """Make one promised refund; asking again with its out_request_no is harmless."""
        assert self._gateway is not None
        number, out_request_no = msg.payload["case"], msg.payload["out_request_no"]
        refund = (await self.ledger(number)).refund(out_request_no)
        if refund.done_at is not None:
            return
        try:
            result = await self._gateway.refund(
                refund.out_trade_no,
                amount_fen=refund.amount_fen,
                out_request_no=out_request_no,
                reason=refund.reason,
            )
        except GatewayRefused as e:
            # Our ledger and Alipay's disagree: a person must look. The job stays to retry.
            await self.report(
                "refund", f"{e.sub_code}: {e.message}", msg.payload, self._clock(), case=number
            )
            raise
        case = await self._cases.get(SYSTEM, number)
        now = self._clock()
        for _ in range(_RETRIES):
            doc = await self._store.get(LEDGERS, number)
            assert doc is not None
            ledger = ledger_from_doc(doc)
            if not ledger.complete(out_request_no, now):
                return
            try:
                async with self._store.transaction() as tx:
                    await self._save_ledger(tx, ledger)
                    notify = {
                        "case": number,
                        "applicant_id": case.applicant_id,
                        "state": case.state.value,
                        "text": refund_text(case, refund),
                    }
                    await self._queue(
                        tx, "notify.applicant", f"refunded:{out_request_no}", now, notify
                    )
                break
            except VersionConflict:
                continue
        log.info(
            "payment_refunded",
            case=number,
            out_request_no=out_request_no,
            fund_change=result.fund_change,
        )

    async def query(self, msg: OutboxMessage) -> None:
        doc = await self._store.get(ORDERS, msg.payload["out_trade_no"])
        if doc is None or doc["status"] != OrderStatus.OPEN.value:
            return
        await self._reconcile_one(order_from_doc(doc), self._clock())

    async def close(self, msg: OutboxMessage) -> None:
        await self.close_order(msg.payload["out_trade_no"])

    async def close_order(self, out_trade_no: str) -> None:
        """Close an unpaid order at Alipay, then here; one never opened stays for reconcile."""
        assert self._gateway is not None
        doc = await self._store.get(ORDERS, out_trade_no)
        if doc is None or doc["status"] != OrderStatus.OPEN.value:
            return
        try:
            await self._gateway.close(out_trade_no)
        except TradeNotFound:
            return  # its URL stays payable until expiry; reconcile closes it after that
        except GatewayRefused as e:
            if e.sub_code == "ACQ.TRADE_STATUS_ERROR":
                return  # paid meanwhile: the notice or the query settles it
            raise
        async with self._store.transaction() as tx:
            await self._mark_closed(tx, out_trade_no)

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
        shown = {k: str(v)[:200] for k, v in params.items() if k not in {"sign"}}
        # Alipay re-signs each retry with a new notify_time: the same notice is one issue.
        same = {k: v for k, v in shown.items() if k != "notify_time"}
        record = {
            "_id": _digest({"source": source, "reason": reason, **same}),
            "source": source,
            "reason": reason[:500],
            "case": case,
            "params": dict(list(shown.items())[:40]),
            "at": now.isoformat(),
        }
        log.warning("payment_issue", source=source, reason=reason, case=case)
        try:
            async with self._store.transaction() as tx:
                await tx.insert(ISSUES, record)
        except DuplicateKey:
            pass  # the same forged notice again: kept once

    async def figures(self, days: int) -> dict[str, Any]:
        """Money in and out over the last ``days``, what is still pending, and recent issues."""
        since = (self._clock() - timedelta(days=days)).isoformat()
        paid = await self._store.find(
            ORDERS, {"status": OrderStatus.PAID.value, "paid_at": {"$gte": since}}
        )
        refunds = [
            refund
            for doc in await self._store.find(LEDGERS, {"refunded_fen": {"$gt": 0}})
            for refund in ledger_from_doc(doc).refunds
            if refund.done_at is not None and refund.done_at.isoformat() >= since
        ]
        waiting = await self._store.find(OUTBOX, {"topic": REFUND_TOPIC, "status": "pending"})
        stuck = await self._store.find(
            OUTBOX, {"topic": {"$in": PAYMENT_TOPICS}, "status": "dead"}, limit=20
        )
        return {
            "collected_fen": sum(o["amount_fen"] for o in paid),
            "payments": len(paid),
            "refunded_fen": sum(r.amount_fen for r in refunds),
            "refunds": len(refunds),
            "refunds_waiting": len(waiting),
            "open_orders": await self._store.count(ORDERS, {"status": OrderStatus.OPEN.value}),
            "issues": await self._store.find(ISSUES, sort=[("at", -1)], limit=10),
            "issue_count": await self._store.count(ISSUES, {"at": {"$gte": since}}),
            "stuck": [
                {
                    "key": d["_id"],
                    "topic": d["topic"],
                    "case": d["payload"].get("case"),
                    "error": d.get("last_error") or "",
                }
                for d in stuck
            ],
        }

    async def retry(self, actor: Actor, key: str) -> None:
        """A supervisor sends a payment job that gave up back to work (e.g. a refund Alipay
        refused until the merchant account was topped up)."""
        if actor.role is not Role.SUPERVISOR:
            raise NotPermitted("只有督办人员可以重新处理支付任务")
        doc = await self._store.get(OUTBOX, key)
        if doc is None or doc["topic"] not in PAYMENT_TOPICS:
            raise NotFoundError("没有这个支付任务")
        if not await requeue(self._store, key, self._clock()):
            raise InvalidTransition("该任务不在“处理失败”状态，无需重新处理")
        log.info("payment_job_requeued", key=key, by=actor.id)

    # -- internals ---------------------------------------------------------------------------

    async def _save_ledger(self, tx: Transaction, ledger: Ledger, *, new: bool = False) -> None:
        doc = ledger_to_doc(ledger)
        if new:
            await tx.insert(LEDGERS, doc)
        else:
            await tx.replace(LEDGERS, doc, expected_version=ledger.version)

    async def _queue(
        self, tx: Transaction, topic: str, key: str, now: datetime, payload: dict[str, Any]
    ) -> None:
        await enqueue(tx, topic=topic, key=key, payload=payload, now=now, once=True)


def _digest(params: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:32]


def _notice_doc(notice_id: str, case: str, params: Mapping[str, str], now: datetime) -> Document:
    kept = ("trade_status", "trade_no", "out_trade_no", "total_amount", "refund_fee", "gmt_payment")
    return {
        "_id": notice_id,
        "case": case,
        "received_at": now.isoformat(),
        **{k: params[k] for k in kept if k in params},
    }
