"""Receipts of delivered WeChat messages: kept long enough to catch retries, then purged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.conversations import INBOUND
from bot.inbound import first_sight, purge_receipts
from storage.sqlite import SqliteDocumentStore

NOW = datetime(2026, 11, 25, 8, tzinfo=UTC)


async def test_receipts_older_than_three_days_are_purged_and_recent_ones_kept(
    store: SqliteDocumentStore,
) -> None:
    async with store.transaction() as tx:
        for key, age in (("msg:old", timedelta(days=4)), ("msg:new", timedelta(hours=2))):
            at = (NOW - age).isoformat()
            await tx.insert(INBOUND, {"_id": key, "status": "done", "reply": "好", "at": at})
    assert await purge_receipts(store, NOW) == 1
    assert await first_sight(store, "msg:old") is None
    recent = await first_sight(store, "msg:new")
    assert recent is not None and recent["reply"] == "好"
