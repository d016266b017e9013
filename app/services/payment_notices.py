"""Alipay's asynchronous notices: verified, kept once, and the order settled or closed by them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from app.services.payment_issues import digest, report_issue
from app.services.payment_records import NOTICES, ORDERS, order_from_doc
from app.services.payment_settlement import RETRIES, mark_closed, settle
from payments.notifications import (
    AlipayAccount,
    ExpectedOrder,
    NotificationRejected,
    claimed_out_trade_no,
)
from payments.port import TradeStatus
from storage.documents import Document, DocumentStore, DuplicateKey, VersionConflict


async def receive_notice(
    store: DocumentStore,
    account: AlipayAccount,
    params: Mapping[str, str],
    now: datetime,
    *,
    sender: str = "",
) -> bool:
    """True (answer ``success``) once the notice is durably recorded.

    A repeat, or a notice for an order the query already settled, changes nothing. A notice
    that fails verification is kept for the supervisors and changes nothing else.
    """
    claimed = claimed_out_trade_no(params)
    doc = await store.get(ORDERS, claimed) if claimed else None
    if doc is None:
        await report_issue(store, "notice", "unknown out_trade_no", params, now, sender=sender)
        return False
    order = order_from_doc(doc)
    try:
        notice = account.verify(params, ExpectedOrder(order.out_trade_no, order.amount_fen))
    except NotificationRejected as e:
        await report_issue(store, "notice", e.reason, params, now, case=order.case, sender=sender)
        return False
    notice_id = notice.notify_id or digest(params)
    for _ in range(RETRIES):
        try:
            async with store.transaction() as tx:
                if await tx.get(NOTICES, notice_id) is not None:
                    return True  # Alipay repeating a notice we answered too late
                await tx.insert(NOTICES, _notice_doc(notice_id, order.case, params, now))
                if notice.paid:
                    await settle(tx, order.out_trade_no, notice.trade_no, now, "notice")
                elif notice.status is TradeStatus.TRADE_CLOSED:
                    await mark_closed(tx, order.out_trade_no)
            break
        except (VersionConflict, DuplicateKey):
            continue  # the query or a twin notice settled it meanwhile: look again
    return True


def _notice_doc(notice_id: str, case: str, params: Mapping[str, str], now: datetime) -> Document:
    kept = ("trade_status", "trade_no", "out_trade_no", "total_amount", "refund_fee", "gmt_payment")
    return {
        "_id": notice_id,
        "case": case,
        "received_at": now.isoformat(),
        **{k: params[k] for k in kept if k in params},
    }
