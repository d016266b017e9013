"""Cleanups that several instances may run at once: losing the race to delete is not an error."""

from __future__ import annotations

import contextlib
from typing import Any

from storage.documents import DocumentStore, NotFound, VersionConflict


async def delete_each(store: DocumentStore, collection: str, docs: list[dict[str, Any]]) -> int:
    """Delete ``docs``, one unit of work each (MongoDB aborts a whole transaction on a failed
    write); one another instance deleted or changed first is skipped. Returns how many went."""
    gone = 0
    for doc in docs:
        with contextlib.suppress(NotFound, VersionConflict):
            async with store.transaction() as tx:
                await tx.delete(collection, doc["_id"])
            gone += 1
    return gone
