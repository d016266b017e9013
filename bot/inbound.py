"""Inbound bookkeeping: WeChat retries recognised in the store, across restarts and instances."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from bot.conversations import INBOUND
from storage.documents import Document, DocumentStore, DuplicateKey
from storage.purges import delete_each


async def first_sight(store: DocumentStore, key: str) -> Document | None:
    """The receipt of an earlier delivery of this message, or None if this is the first."""
    # A late marker wins: that reply goes (or went) as a customer-service message, not again.
    return await store.get(INBOUND, late_key(key)) or await store.get(INBOUND, key)


def late_key(key: str) -> str:
    return f"{key}#late"


async def mark_late(store: DocumentStore, key: str, now: datetime) -> None:
    """Mark a message still being worked on past the deadline, so its retries are not redone."""
    with contextlib.suppress(DuplicateKey):
        async with store.transaction() as tx:
            await tx.insert(
                INBOUND, {"_id": late_key(key), "status": "processing", "at": now.isoformat()}
            )


RECEIPT_DAYS = 3  # WeChat retries within seconds; a few days covers any replay worth catching


async def purge_receipts(store: DocumentStore, now: datetime, *, batch: int = 1000) -> int:
    """Delete receipts older than RECEIPT_DAYS, a batch at a time; returns how many went."""
    cutoff = (now - timedelta(days=RECEIPT_DAYS)).isoformat()
    old = await store.find(INBOUND, {"at": {"$lt": cutoff}}, sort=[("at", 1)], limit=batch)
    return await delete_each(store, INBOUND, old)  # another instance may purge the same ones
