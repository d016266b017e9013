"""The sweep of unreferenced objects: what a crash, a cut request or a dropped reference left.

An object is stored before the document naming it commits (a material's photo, then the case
that takes it), so a crash or a cancellation between the two leaves an object nothing names;
so does a reference later dropped (a photo replaced, a claim judged and refused). The sweep
deletes such objects once they are ``SAFE_AGE`` old, so that an upload in progress or a job
about to commit its reference is never touched.

Safe on many instances and beside live traffic: it reads every holder of references
(``object_kinds.HOLDERS``, in the order references move), lists the old objects, reads the
holders again for those named nowhere, and checks each is still old just before deleting it.
An object under a prefix no kind claims is never deleted, only counted in the log.
Memory: the set of referenced keys (about 100 bytes a key).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Collection
from datetime import datetime, timedelta

import structlog

from app.services.object_kinds import HOLDERS, Holder, kind_of
from storage.documents import DocumentStore
from storage.objects import ObjectStore, ObjectStoreError

SAFE_AGE = timedelta(hours=24)
PAGE = 500  # documents read at a time

log = structlog.get_logger(__name__)


async def sweep_orphans(
    store: DocumentStore, objects: ObjectStore, now: datetime, *, safe_age: timedelta = SAFE_AGE
) -> int:
    """Delete the objects put before ``now - safe_age`` that no document names; how many went."""
    cutoff = now - safe_age
    named = await referenced(store)
    candidates: list[str] = []
    unclaimed: Counter[str] = Counter()
    async for listed in objects.listing(older_than=cutoff):
        kind = kind_of(listed.key)
        if kind is None:
            unclaimed[listed.key.split("/", 1)[0]] += 1
        elif not kind.keep and listed.key not in named:
            candidates.append(listed.key)
    if unclaimed:
        log.warning(
            "objects_of_no_kind_kept",
            prefixes=dict(sorted(unclaimed.items())),
            hint="register their prefix in app/services/object_kinds.py",
        )
    # Read again after listing: a reference that moved while the first reading went on.
    named = await referenced(store, among=set(candidates)) if candidates else set()
    removed = 0
    for key in candidates:
        if key in named or not await _still_old(objects, key, cutoff):
            continue  # named after all, or put again since it was listed
        try:
            await objects.delete(key)
        except ObjectStoreError as exc:  # the next sweep tries again
            log.warning("unreferenced_object_not_deleted", key=key, error=str(exc))
            continue
        removed += 1
    log.info("unreferenced_objects_removed", count=removed, older_than=str(safe_age))
    return removed


async def referenced(
    store: DocumentStore, among: Collection[str] | None = None, *, page: int = PAGE
) -> set[str]:
    """Every object key some document names (only those in ``among``, when given), reading
    ``page`` documents at a time."""
    named: set[str] = set()
    for holder in HOLDERS:
        async for key in _named_by(store, holder, page):
            if among is None or key in among:
                named.add(key)
    return named


async def _named_by(store: DocumentStore, holder: Holder, page: int) -> AsyncIterator[str]:
    last: str | None = None
    while True:
        where = dict(holder.where or {})
        if last is not None:
            where["_id"] = {"$gt": last}
        docs = await store.find(holder.collection, where, sort=[("_id", 1)], limit=page)
        for doc in docs:
            for key in holder.keys(doc):
                yield key
        if len(docs) < page:
            return
        last = docs[-1]["_id"]


async def _still_old(objects: ObjectStore, key: str, cutoff: datetime) -> bool:
    with contextlib.suppress(ObjectStoreError):
        async for listed in objects.listing(key, older_than=cutoff):
            if listed.key == key:
                return True
    return False
