"""Asking Alipay about orders it has not told us of, and settling or closing them by its answer.

Notices can be lost (our outage outlasting Alipay's 25 hours of retries, a firewall): the query
is the other way the money is found.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from app.domain.payments import Order, OrderStatus
from app.services.payment_issues import report_issue
from app.services.payment_records import ORDERS, order_from_doc
from app.services.payment_settlement import mark_closed, settle_alone
from payments.port import GatewayUnavailable, PaymentGateway, TradeNotFound, TradeStatus
from storage.documents import DocumentStore

log = structlog.get_logger(__name__)
QUIET = timedelta(minutes=2)  # a fresh order's notice usually comes first: query after this


async def reconcile(
    store: DocumentStore, gateway: PaymentGateway, now: datetime, *, limit: int
) -> int:
    """Query the orders still open a while after they were made; how many changed."""
    where = {"status": OrderStatus.OPEN.value, "created_at": {"$lt": (now - QUIET).isoformat()}}
    docs = await store.find(ORDERS, where, sort=[("created_at", 1)], limit=limit)
    changed = 0
    for doc in docs:
        order = order_from_doc(doc)
        try:
            changed += await reconcile_one(store, gateway, order, now)
        except GatewayUnavailable as e:
            log.warning("payment_query_failed", out_trade_no=order.out_trade_no, error=str(e))
    return changed


async def reconcile_one(
    store: DocumentStore, gateway: PaymentGateway, order: Order, now: datetime
) -> int:
    """Settle the order if Alipay was paid, close it if it can no longer be; 1 if it changed."""
    try:
        trade = await gateway.query(order.out_trade_no)
    except TradeNotFound:
        # Never opened. Its signed URL carries time_expire, so after that it cannot be.
        if now <= order.expires_at + QUIET:
            return 0
        trade = None
    if trade is not None and trade.status.paid:
        if trade.total_fen != order.amount_fen:
            await report_issue(
                store,
                "query",
                f"paid {trade.total_fen} fen, the order says {order.amount_fen}",
                {"out_trade_no": order.out_trade_no},
                now,
                case=order.case,
            )
            return 0
        return await settle_alone(store, order.out_trade_no, trade.trade_no, now, "query")
    if trade is not None and trade.status is TradeStatus.WAIT_BUYER_PAY:
        if now <= order.expires_at:
            return 0
        await gateway.close(order.out_trade_no)  # past its time: no late payment
    async with store.transaction() as tx:
        return int(await mark_closed(tx, order.out_trade_no))
