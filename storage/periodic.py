"""Periodic jobs that run once per period across every instance on one document store.

Time is cut into slots of the job's period, counted from the epoch, so every instance agrees
on which slot it is in. The first instance to insert the slot's record runs the job; the
others meet the duplicate key and skip. A run that fails is not retried within its slot: the
next slot runs it again, as a single instance would.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.documents import DocumentStore, DuplicateKey, NotFound

RUNS = "periodic_runs"
KEEP = timedelta(days=2)  # slot records kept this long, then purged


def slot_of(name: str, period: float, now: datetime) -> str:
    """The record id of the slot ``now`` falls in, for the job ``name`` run every ``period`` s."""
    return f"{name}:{int(now.timestamp() // period)}"


async def claim_slot(
    store: DocumentStore, name: str, period: float, now: datetime, holder: str
) -> bool:
    """True if this instance is the one to run ``name`` in the current slot."""
    record = {"_id": slot_of(name, period, now), "job": name, "holder": holder}
    record["at"] = now.isoformat()
    try:
        async with store.transaction() as tx:
            await tx.insert(RUNS, record)
    except DuplicateKey:
        return False
    return True


async def purge_runs(store: DocumentStore, now: datetime) -> int:
    """Forget slot records older than KEEP; a record another instance removed first is fine."""
    old = await store.find(RUNS, {"at": {"$lt": (now - KEEP).isoformat()}}, limit=1000)
    gone = 0
    for doc in old:
        try:
            async with store.transaction() as tx:
                await tx.delete(RUNS, doc["_id"])
        except NotFound:  # another instance purged it first
            continue
        gone += 1
    return gone
