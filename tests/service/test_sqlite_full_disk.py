"""The SQLite store on a full disk (its file held to a size, as SQLite's max_page_count does):
a write that finds no room fails whole with StorageFull, reads go on, and once room is freed
the store reports ready again and writes as before, without a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.documents import StorageFull
from storage.sqlite import SqliteDocumentStore


async def test_a_full_file_refuses_a_write_whole_and_takes_writes_again_once_room_is_freed(
    tmp_path: Path,
) -> None:
    store = SqliteDocumentStore(
        tmp_path / "s.sqlite3", max_bytes=1024 * 1024
    )  # the schema takes ~0.5 MB
    await store.open()
    try:
        await store.ping()
        kept = 0
        with pytest.raises(StorageFull):
            while True:  # photos' records, say, until the disk is full
                async with store.transaction() as tx:
                    await tx.insert("cases", {"_id": f"c{kept}", "pad": "x" * 20_000})
                    await tx.insert("case_events", {"_id": f"e{kept}", "case": f"c{kept}"})
                kept += 1
        assert kept > 0
        assert await store.get("cases", f"c{kept}") is None  # nothing of the failed unit
        assert await store.get("case_events", f"e{kept}") is None
        assert await store.count("cases") == kept  # and everything before it, readable
        with pytest.raises(StorageFull):
            await store.ping()  # /readyz: documents full

        async with store.transaction() as tx:  # someone frees room
            for n in range(kept // 2):
                await tx.delete("cases", f"c{n}")
        await store.ping()  # ready again, by itself
        async with store.transaction() as tx:
            await tx.insert("cases", {"_id": "after", "pad": "x" * 20_000})
        assert await store.get("cases", "after") is not None
    finally:
        await store.close()
