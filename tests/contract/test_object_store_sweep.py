"""The sweep of unreferenced objects over every object-store adapter: it needs only listing
(with each object's time) and delete, so what it removes is the same on each."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from app.services.case_records import CASES
from app.services.object_sweep import SAFE_AGE, sweep_orphans
from storage.objects import ObjectStore
from storage.sqlite import SqliteDocumentStore
from tests.contract.test_object_store import listed, stream


async def test_the_sweep_removes_only_old_unnamed_objects_on_every_store(
    object_store: ObjectStore, tmp_path: Path
) -> None:
    documents = SqliteDocumentStore(tmp_path / "d.sqlite3")
    await documents.open()
    named, unnamed, young = "cases/BC1/id/a.png", "cases/BC1/id/b.png", "cases/BC1/id/c.png"
    for key in (named, unnamed, "system/store-mark.txt", "hall/x.png"):
        await object_store.put(key, stream(b"x"), content_type="image/png", max_bytes=9)
    async with documents.transaction() as tx:
        await tx.insert(CASES, {"_id": "BC1", "materials": {"id": {"object_key": named}}})
    await asyncio.sleep(1.1)  # S3 gives times to the second
    cut = datetime.now(UTC)
    await asyncio.sleep(1.1)
    await object_store.put(young, stream(b"x"), content_type="image/png", max_bytes=9)

    try:
        assert await sweep_orphans(documents, object_store, cut + SAFE_AGE) == 1
    finally:
        await documents.close()
    assert await listed(object_store) == ["cases/BC1/id/a.png", young, "hall/x.png",
                                          "system/store-mark.txt"]  # fmt: skip
