"""Mapping between payment orders, ledgers and their stored documents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.payments import Ledger, Order, OrderStatus, Refund

ORDERS = "payment_orders"  # _id = out_trade_no
LEDGERS = "payment_ledgers"  # _id = case number
NOTICES = "payment_notices"  # _id = notify_id: Alipay's verified notices, each kept once
ISSUES = "payment_issues"  # what supervisors must look at: forged notices, refused refunds


def _t(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def order_to_doc(order: Order) -> dict[str, Any]:
    return {
        "_id": order.out_trade_no,
        "case": order.case,
        "amount_fen": order.amount_fen,
        "subject": order.subject,
        "created_at": order.created_at.isoformat(),
        "expires_at": order.expires_at.isoformat(),
        "status": order.status.value,
        "trade_no": order.trade_no,
        "paid_at": order.paid_at.isoformat() if order.paid_at else None,
        "settled_by": order.settled_by,
    }


def order_from_doc(doc: dict[str, Any]) -> Order:
    return Order(
        out_trade_no=doc["_id"],
        case=doc["case"],
        amount_fen=doc["amount_fen"],
        subject=doc["subject"],
        created_at=datetime.fromisoformat(doc["created_at"]),
        expires_at=datetime.fromisoformat(doc["expires_at"]),
        status=OrderStatus(doc["status"]),
        trade_no=doc["trade_no"],
        paid_at=_t(doc["paid_at"]),
        settled_by=doc["settled_by"],
        version=doc["_version"],
    )


def ledger_to_doc(ledger: Ledger) -> dict[str, Any]:
    return {
        "_id": ledger.case,
        "payments": [{"out_trade_no": k, "amount_fen": v} for k, v in ledger.payments.items()],
        "refunds": [
            {
                "out_request_no": r.out_request_no,
                "out_trade_no": r.out_trade_no,
                "amount_fen": r.amount_fen,
                "reason": r.reason,
                "requested_at": r.requested_at.isoformat(),
                "done_at": r.done_at.isoformat() if r.done_at else None,
            }
            for r in ledger.refunds
        ],
        # Totals for the supervisors' sums; the entries above are the truth.
        "paid_fen": ledger.paid_fen,
        "refunded_fen": ledger.refunded_fen,
    }


def ledger_from_doc(doc: dict[str, Any]) -> Ledger:
    return Ledger(
        case=doc["_id"],
        payments={p["out_trade_no"]: p["amount_fen"] for p in doc["payments"]},
        refunds=[
            Refund(
                out_request_no=r["out_request_no"],
                out_trade_no=r["out_trade_no"],
                amount_fen=r["amount_fen"],
                reason=r["reason"],
                requested_at=datetime.fromisoformat(r["requested_at"]),
                done_at=_t(r["done_at"]),
            )
            for r in doc["refunds"]
        ],
        version=doc["_version"],
    )
