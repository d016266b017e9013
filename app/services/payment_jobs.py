"""The payment outbox jobs that bring a case's money to what it owes: settle, refund, close.

Each may run twice (a crash, a retry) and then does nothing the first run did not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog

from app.domain.actors import SYSTEM
from app.domain.case_states import State
from app.domain.payments import OrderStatus, owed_fen, refund_reason, refund_text
from app.services.cases import CaseService
from app.services.notify import NOTIFY_TOPIC
from app.services.payment_issues import report_issue
from app.services.payment_records import LEDGERS, ORDERS, ledger_from_doc
from app.services.payment_settlement import (
    REFUND_TOPIC,
    RETRIES,
    mark_closed,
    queue_job,
    read_ledger,
    read_orders,
    save_ledger,
)
from payments.port import GatewayRefused, PaymentGateway, TradeNotFound
from storage.documents import DocumentStore, VersionConflict
from storage.outbox import OutboxMessage

log = structlog.get_logger(__name__)


class PaymentJobs:
    def __init__(
        self,
        store: DocumentStore,
        cases: CaseService,
        gateway: PaymentGateway | None,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._cases = cases
        self._gateway = gateway
        self._clock = clock

    async def settle_case(self, msg: OutboxMessage) -> None:
        """Bring the case's ledger to what it owes: confirm the payment, or refund the excess.

        Run after every payment and every withdrawal or refusal of a case with a fee.
        """
        number = msg.payload["case"]
        case = await self._cases.get(SYSTEM, number)
        ledger = await read_ledger(self._store, number)
        if case.state is State.AWAITING_PAYMENT and ledger.held_fen >= case.terms.fee_fen > 0:
            first = await self._store.get(ORDERS, next(iter(ledger.payments)))
            trade_no = first["trade_no"] if first else ""
            case = await self._cases.confirm_payment(number, trade_no=trade_no)
        now = self._clock()
        if case.state is not State.AWAITING_PAYMENT:
            for order in await read_orders(self._store, number):
                if order.status is OrderStatus.OPEN:  # nothing more to pay: close the pages
                    await self.close_order(order.out_trade_no)
        owed = owed_fen(case)
        for _ in range(RETRIES):
            doc = await self._store.get(LEDGERS, number)
            if doc is None:
                return
            ledger = ledger_from_doc(doc)
            planned = ledger.plan_refunds(owed, refund_reason(case), now)
            if not planned:
                return
            try:
                async with self._store.transaction() as tx:
                    await save_ledger(tx, ledger)
                    for refund in planned:
                        job = {"case": number, "out_request_no": refund.out_request_no}
                        key = f"refund:{refund.out_request_no}"
                        await queue_job(tx, REFUND_TOPIC, key, now, job)
                return
            except VersionConflict:
                continue
        raise RuntimeError(f"the ledger of {number} kept changing; trying again later")

    async def refund(self, msg: OutboxMessage) -> None:
        """Make one promised refund; asking again with its out_request_no is harmless."""
        assert self._gateway is not None
        number, out_request_no = msg.payload["case"], msg.payload["out_request_no"]
        refund = (await read_ledger(self._store, number)).refund(out_request_no)
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
            reason = f"{e.sub_code}: {e.message}"
            await report_issue(
                self._store, "refund", reason, msg.payload, self._clock(), case=number
            )
            raise
        case = await self._cases.get(SYSTEM, number)
        now = self._clock()
        for _ in range(RETRIES):
            doc = await self._store.get(LEDGERS, number)
            assert doc is not None
            ledger = ledger_from_doc(doc)
            if not ledger.complete(out_request_no, now):
                return
            try:
                async with self._store.transaction() as tx:
                    await save_ledger(tx, ledger)
                    notify = {
                        "case": number,
                        "applicant_id": case.applicant_id,
                        "state": case.state.value,
                        "text": refund_text(case, refund),
                    }
                    key = f"refunded:{out_request_no}"
                    await queue_job(tx, NOTIFY_TOPIC, key, now, notify)
                break
            except VersionConflict:
                continue
        log.info(
            "payment_refunded",
            case=number,
            out_request_no=out_request_no,
            fund_change=result.fund_change,
        )

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
            await mark_closed(tx, out_trade_no)
