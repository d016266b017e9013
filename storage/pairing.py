"""The document store and the object store an instance opens must belong together.

Every instance on one document store must see the same objects: a photo uploaded to one
instance is judged, linked and kept by the others. An instance given its own object store (a
local directory on another machine, a second bucket) would answer 404 for others' photos and
lose their pre-checks. So the pair carries one mark: a random id written once into both, the
document store deciding which, and an instance whose object store holds another mark — or none,
while the documents already have one and objects — refuses to start.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

from storage.documents import DocumentStore, DuplicateKey
from storage.objects import ObjectNotFound, ObjectStore

MARKS = "store_marks"  # one document: the mark of the object store paired with this database
MARK_ID = "objects"
MARK_KEY = "system/store-mark.txt"  # the same mark, inside the object store
POLL = 0.5


class StoresNotPaired(RuntimeError):
    """This instance's object store is not the one the shared document store is paired with."""


async def check_pairing(
    documents: DocumentStore, objects: ObjectStore, *, wait: float = 5.0
) -> None:
    """Pair the stores on first start; afterwards refuse an object store that is not the pair.

    ``wait``: how long an unmarked object store may take to receive the mark from an instance
    that paired the stores a moment ago (two instances starting together the first time).
    """
    mark = secrets.token_hex(16)
    try:
        async with documents.transaction() as tx:
            await tx.insert(MARKS, {"_id": MARK_ID, "mark": mark})
        first = True
    except DuplicateKey:  # paired before, or by an instance starting beside this one
        doc = await documents.get(MARKS, MARK_ID)
        assert doc is not None
        mark, first = doc["mark"], False
    held = await _read_mark(objects)
    for _ in range(int(wait / POLL)):
        if held is not None or first:
            break
        await asyncio.sleep(POLL)
        held = await _read_mark(objects)
    if held is None and first:
        await objects.put(MARK_KEY, _one(mark.encode()), content_type="text/plain", max_bytes=64)
    elif held != mark:
        found = f"its mark {held[:8]}…" if held else "it is empty of this service's mark"
        raise StoresNotPaired(
            f"the object store is not the one this document store is used with ({found}, "
            f"the documents expect {mark[:8]}…): give every instance the same shared object "
            "store (BUCHUMEN_OBJECT_STORE=minio, or one directory every instance mounts)"
        )


async def _read_mark(objects: ObjectStore) -> str | None:
    try:
        data = b"".join([chunk async for chunk in objects.get(MARK_KEY)])
    except ObjectNotFound:
        return None
    return data.decode().strip()


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data
