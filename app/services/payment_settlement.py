"""The small transactions every answer from Alipay ends in, and the payment jobs' topics.

A verified notice, the reconciliation query and the applicant's return from the cashier each
settle an order through ``settle``: whichever comes first wins the order's compare-and-set, and
the others change nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from app.domain.payments import Ledger, Order, OrderStatus
from app.services.case_effects import SETTLE_TOPIC
from app.services.payment_records import (
    LEDGERS,
    ORDERS,
    ledger_from_doc,
    ledger_to_doc,
    order_from_doc,
    order_to_doc,
)
from storage.documents import DocumentStore, DuplicateKey, Transaction, VersionConflict
from storage.outbox import enqueue

log = structlog.get_logger(__name__)
REFUND_TOPIC = "payment.refund"
CLOSE_TOPIC = "payment.close"
QUERY_TOPIC = "payment.query"
PAYMENT_TOPICS = [SETTLE_TOPIC, REFUND_TOPIC, CLOSE_TOPIC, QUERY_TOPIC]
RETRIES = 5  # a unit of work lost a compare-and-set to a concurrent one: read again and retry


async def read_orders(store: DocumentStore, number: str) -> list[Order]:
    docs = await store.find(ORDERS, {"case": number}, sort=[("created_at", 1)])
    return [order_from_doc(d) for d in docs]


async def read_ledger(store: DocumentStore, number: str) -> Ledger:
    doc = await store.get(LEDGERS, number)
    return ledger_from_doc(doc) if doc else Ledger(number)


async def settle(tx: Transaction, out_trade_no: str, trade_no: str, now: datetime, by: str) -> bool:
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
    await save_ledger(tx, ledger, new=ledger_doc is None)
    job = {"case": order.case, "out_trade_no": out_trade_no}
    await queue_job(tx, SETTLE_TOPIC, f"settle:{out_trade_no}", now, job)
    log.info("payment_settled", case=order.case, out_trade_no=out_trade_no, by=by)
    return True


async def settle_alone(
    store: DocumentStore, out_trade_no: str, trade_no: str, now: datetime, by: str
) -> int:
    """``settle`` in a transaction of its own; 1 if this call settled the order."""
    for _ in range(RETRIES):
        try:
            async with store.transaction() as tx:
                return int(await settle(tx, out_trade_no, trade_no, now, by))
        except (VersionConflict, DuplicateKey):
            continue
    return 0


async def mark_closed(tx: Transaction, out_trade_no: str) -> bool:
    doc = await tx.get(ORDERS, out_trade_no)
    if doc is None or doc["status"] != OrderStatus.OPEN.value:
        return False
    await tx.replace(
        ORDERS, doc | {"status": OrderStatus.CLOSED.value}, expected_version=doc["_version"]
    )
    return True


async def save_ledger(tx: Transaction, ledger: Ledger, *, new: bool = False) -> None:
    doc = ledger_to_doc(ledger)
    if new:
        await tx.insert(LEDGERS, doc)
    else:
        await tx.replace(LEDGERS, doc, expected_version=ledger.version)


async def queue_job(
    tx: Transaction, topic: str, key: str, now: datetime, payload: dict[str, Any]
) -> None:
    # once: a job queued before under this key (a repeated answer, a rerun) stays as it is
    await enqueue(tx, topic=topic, key=key, payload=payload, now=now, once=True)
