"""Cases opened at most once per ``Idempotency-Key``, as payment APIs do: a client that lost the
answer to ``POST /cases`` (a cut connection, a timeout) retries with the same key and gets the
case the first request opened, never a second one.

The key is kept with the case, in the transaction that opens it, so a crash can never leave a
case without its key nor a key without its case. A key is its applicant's own, lives 24 hours
(``LIFETIME``), and is bound to the request it came with: the same key with another body is
refused. ``purge`` forgets keys past their life.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta

from app.domain.actors import Actor
from app.domain.cases import Case
from app.domain.errors import ValidationFailed
from app.services.cases import CaseService
from storage.documents import Document, DocumentStore, NotFound, Transaction, VersionConflict
from storage.outbox import iso

KEYS = "idempotency"
LIFETIME = timedelta(hours=24)
MAX_KEY = 255
REUSED = "这个 Idempotency-Key 已用于内容不同的请求，请为新的请求换一个新的 Key"
MALFORMED = f"Idempotency-Key 须为 1–{MAX_KEY} 个可见的英文字符（如 UUID）"


class _KeyTaken(Exception):
    """A twin of this request, with the same key, opened its case first."""


class IdempotentCases:
    """Opening a case, once per applicant and ``Idempotency-Key`` within a day."""

    def __init__(
        self, store: DocumentStore, cases: CaseService, *, clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._cases = cases
        self._clock = clock

    async def open(
        self, actor: Actor, matter_code: str, *, on_behalf_of: str | None, key: str | None
    ) -> tuple[Case, bool]:
        """The case, and whether this request opened it (False: a retry of one that did)."""
        if key is None:
            return await self._cases.open(actor, matter_code, on_behalf_of=on_behalf_of), True
        if not 0 < len(key) <= MAX_KEY or not all("!" <= c <= "~" for c in key):
            raise ValidationFailed(MALFORMED)
        record_id = "cases:" + hashlib.sha256(f"{actor.id}\n{key}".encode()).hexdigest()
        asked = hashlib.sha256(json.dumps([matter_code, on_behalf_of]).encode()).hexdigest()
        for _ in range(3):
            now = self._clock()
            record = await self._store.get(KEYS, record_id)
            if record is not None and _live(record, now):
                if record["request"] != asked:
                    raise ValidationFailed(REUSED)
                return await self._cases.get(actor, record["case"]), False
            keep = functools.partial(_keep, record_id, asked, now)
            try:
                opened = await self._cases.open(
                    actor, matter_code, on_behalf_of=on_behalf_of, write=keep
                )
            except _KeyTaken:
                continue  # answer with what the twin opened
            return opened, True
        raise RuntimeError(f"idempotency key {record_id} keeps changing hands")

    async def purge(self, batch: int = 500) -> int:
        """Forget keys past their life; how many went."""
        old = await self._store.find(KEYS, {"expires_at": {"$lt": iso(self._clock())}}, limit=batch)
        for doc in old:
            try:
                async with self._store.transaction() as tx:
                    await tx.delete(KEYS, doc["_id"], expected_version=doc["_version"])
            except (VersionConflict, NotFound):
                continue  # used afresh, or purged by another instance
        return len(old)


async def _keep(record_id: str, asked: str, now: datetime, case: Case, tx: Transaction) -> None:
    """Keep the key with the case it opens, in the same transaction."""
    held = await tx.get(KEYS, record_id)
    if held is not None and _live(held, now):
        raise _KeyTaken  # the whole opening rolls back
    doc = {"_id": record_id, "request": asked, "case": case.number}
    doc |= {"at": iso(now), "expires_at": iso(now + LIFETIME)}
    if held is None:
        await tx.insert(KEYS, doc)
    else:  # a key past its life, used afresh
        await tx.replace(KEYS, doc, expected_version=held["_version"])


def _live(record: Document, now: datetime) -> bool:
    return bool(record["expires_at"] > iso(now))
