"""Inbound bookkeeping: WeChat retries recognised in the store, across restarts and instances."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.documents import DocumentStore, DuplicateKey
from storage.outbox import outbox_message

INBOUND = "wechat_inbound"


async def first_sight(store: DocumentStore, key: str, now: datetime) -> dict[str, Any] | None:
    """Claim ``key``; None if this is its first delivery, else the record of the earlier one."""
    try:
        async with store.transaction() as tx:
            await tx.insert(INBOUND, {"_id": key, "status": "processing", "at": now.isoformat()})
        return None
    except DuplicateKey:
        return await store.get(INBOUND, key) or {"status": "processing"}


async def remember_reply(store: DocumentStore, key: str, reply: str | None) -> None:
    """Keep the passive reply so a retry that arrives after we answered gets the same answer."""
    async with store.transaction() as tx:
        doc = await tx.get(INBOUND, key)
        if doc is not None:
            doc.update(status="done", reply=reply)
            await tx.replace(INBOUND, doc, expected_version=doc["_version"])


async def enqueue(
    store: DocumentStore, *, topic: str, key: str, payload: dict[str, Any], now: datetime
) -> bool:
    """Queue a side effect once; False when a message with this key is already queued."""
    try:
        async with store.transaction() as tx:
            await tx.insert(
                "outbox", outbox_message(topic=topic, key=key, payload=payload, now=now)
            )
        return True
    except DuplicateKey:
        return False
