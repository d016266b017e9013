"""The SQLite store answers quick reads on the event loop's own connection and moves a slow one
to a reader thread: a scan past the budget is cut off on the loop, answered whole from a
thread, and its statement goes to a thread directly for a while after."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

import storage.sqlite
from storage.sqlite import HEAVY_SKIPS, SqliteDocumentStore


async def test_a_scan_past_the_budget_is_answered_whole_from_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqliteDocumentStore(tmp_path / "s.sqlite3")
    await store.open()
    try:
        async with store.transaction() as tx:
            for n in range(3000):
                await tx.insert("cases", {"_id": f"c{n:04}", "state": "draft", "pad": "x" * 300})
        where = {"pad": {"$ne": "y"}}  # no index: every row's JSON is read
        quick = await store.find("cases", {"state": "draft"}, limit=5)  # within the budget
        assert len(quick) == 5

        monkeypatch.setattr(storage.sqlite, "LOOP_BUDGET", 0.0002)
        ticks = 0

        async def ticker() -> None:  # the loop stays free while the thread scans
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        beat = asyncio.create_task(ticker())
        started = time.perf_counter()
        found = await store.find("cases", where)
        count = await store.count("cases", where)
        beat.cancel()
        assert len(found) == 3000 and count == 3000  # nothing lost by the cut-off attempt
        assert [d["_id"] for d in found[:2]] == ["c0000", "c0001"]
        assert ticks > 0, f"the loop never ran during {time.perf_counter() - started:.3f} s"
        heavy = store._heavy  # the memo is the behaviour under test
        assert len(heavy) == 2 and set(heavy.values()) == {HEAVY_SKIPS}
        await store.find("cases", where)  # straight to a thread: one run of the skips used
        assert HEAVY_SKIPS - 1 in heavy.values()
    finally:
        await store.close()
