"""Payment problems kept for supervisors, the figures they watch, and a stuck job sent back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from app.domain.actors import Actor, Role
from app.domain.errors import InvalidTransition, NotFoundError, NotPermitted
from app.domain.payments import OrderStatus
from app.services.payment_records import ISSUES, LEDGERS, ORDERS, ledger_from_doc
from app.services.payment_settlement import PAYMENT_TOPICS, REFUND_TOPIC
from storage.documents import DocumentStore, DuplicateKey, VersionConflict
from storage.outbox import OUTBOX, requeue

log = structlog.get_logger(__name__)
# What anyone on the internet can make us keep by posting notices that fail verification: a
# few per sender and some per hour in all, each kept in full; beyond that they are counted,
# per hour, not stored. A genuine notice passes verification first and is never affected.
PER_SENDER_HOUR = 20
PER_HOUR = 200
UNKEPT = "payment_issues_unkept"  # _id = the hour: how many were counted and not kept


def digest(params: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:32]


async def report_issue(
    store: DocumentStore,
    source: str,
    reason: str,
    params: Mapping[str, Any],
    now: datetime,
    *,
    case: str | None = None,
    sender: str | None = None,
) -> None:
    """Keep a payment problem for supervisors, once per distinct content.

    ``sender``: where an unauthenticated notice came from; its issues are bounded (see above).
    """
    if sender is not None and await _over_bounds(store, sender, now):
        log.warning("payment_issue_unkept", source=source, reason=reason, sender=sender)
        await _count_unkept(store, now)
        return
    shown = {k: str(v)[:200] for k, v in params.items() if k not in {"sign"}}
    # Alipay re-signs each retry with a new notify_time: the same notice is one issue.
    same = {k: v for k, v in shown.items() if k != "notify_time"}
    record = {
        "_id": digest({"source": source, "reason": reason, **same}),
        "source": source,
        "reason": reason[:500],
        "case": case,
        "sender": sender,
        "params": dict(list(shown.items())[:40]),
        "at": now.isoformat(),
    }
    log.warning("payment_issue", source=source, reason=reason, case=case)
    try:
        async with store.transaction() as tx:
            await tx.insert(ISSUES, record)
    except DuplicateKey:
        pass  # the same forged notice again: kept once


async def _over_bounds(store: DocumentStore, sender: str, now: datetime) -> bool:
    since = (now - timedelta(hours=1)).isoformat()
    if await store.count(ISSUES, {"sender": sender, "at": {"$gte": since}}) >= PER_SENDER_HOUR:
        return True
    where = {"sender": {"$ne": None}, "at": {"$gte": since}}
    return await store.count(ISSUES, where) >= PER_HOUR


async def _count_unkept(store: DocumentStore, now: datetime) -> None:
    hour = now.astimezone(UTC).strftime("%Y-%m-%dT%H")
    for _ in range(5):  # a flood races itself; a count that loses five times is let go
        doc = await store.get(UNKEPT, hour)
        try:
            async with store.transaction() as tx:
                if doc is None:
                    await tx.insert(UNKEPT, {"_id": hour, "count": 1})
                else:
                    counted = doc | {"count": doc["count"] + 1}
                    await tx.replace(UNKEPT, counted, expected_version=doc["_version"])
            return
        except (DuplicateKey, VersionConflict):
            continue


async def payment_figures(store: DocumentStore, now: datetime, days: int) -> dict[str, Any]:
    """Money in and out over the last ``days``, what is still pending, and recent issues."""
    since = (now - timedelta(days=days)).isoformat()
    paid = await store.find(ORDERS, {"status": OrderStatus.PAID.value, "paid_at": {"$gte": since}})
    refunds = [
        refund
        for doc in await store.find(LEDGERS, {"refunded_fen": {"$gt": 0}})
        for refund in ledger_from_doc(doc).refunds
        if refund.done_at is not None and refund.done_at.isoformat() >= since
    ]
    waiting = await store.find(OUTBOX, {"topic": REFUND_TOPIC, "status": "pending"})
    stuck = await store.find(OUTBOX, {"topic": {"$in": PAYMENT_TOPICS}, "status": "dead"}, limit=20)
    return {
        "collected_fen": sum(o["amount_fen"] for o in paid),
        "payments": len(paid),
        "refunded_fen": sum(r.amount_fen for r in refunds),
        "refunds": len(refunds),
        "refunds_waiting": len(waiting),
        "open_orders": await store.count(ORDERS, {"status": OrderStatus.OPEN.value}),
        "issues": await store.find(ISSUES, sort=[("at", -1)], limit=10),
        "issue_count": await store.count(ISSUES, {"at": {"$gte": since}}),
        "issues_unkept": sum(
            d["count"] for d in await store.find(UNKEPT, {"_id": {"$gte": since[:13]}})
        ),
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


async def retry_job(store: DocumentStore, actor: Actor, key: str, now: datetime) -> None:
    """A supervisor sends a payment job that gave up back to work."""
    if actor.role is not Role.SUPERVISOR:
        raise NotPermitted("只有督办人员可以重新处理支付任务")
    doc = await store.get(OUTBOX, key)
    if doc is None or doc["topic"] not in PAYMENT_TOPICS:
        raise NotFoundError("没有这个支付任务")
    if not await requeue(store, key, now):
        raise InvalidTransition("该任务不在“处理失败”状态，无需重新处理")
    log.info("payment_job_requeued", key=key, by=actor.id)
