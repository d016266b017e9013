"""The sweep of unreferenced objects over every adapter: it needs only listing (with each
object's time) and delete of the object store, and paged reads of the document store, so what
it removes is the same on each."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from app.services.case_records import CASES
from app.services.object_sweep import SAFE_AGE, referenced, sweep_orphans
from storage.documents import DocumentStore
from storage.objects import ObjectStore
from storage.outbox import DEAD, DONE, OUTBOX
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


async def test_references_are_read_page_by_page_on_every_document_store(
    document_store: DocumentStore,
) -> None:
    keys = {f"cases/BC{n}/id/a.png" for n in range(5)}
    async with document_store.transaction() as tx:
        for n, key in enumerate(sorted(keys)):
            await tx.insert(CASES, {"_id": f"BC{n}", "materials": {"id": {"object_key": key}}})
        await tx.insert(OUTBOX, {"_id": "j1", "status": DONE, "payload": {"k": "cases/x/y/z"}})
        await tx.insert(OUTBOX, {"_id": "j2", "status": DEAD, "payload": {"k": ["bench/z.png"]}})
    assert await referenced(document_store, page=2) == keys | {"bench/z.png"}
    among = {"cases/BC4/id/a.png", "cases/BC9/id/a.png"}
    assert await referenced(document_store, among=among, page=2) == {"cases/BC4/id/a.png"}
