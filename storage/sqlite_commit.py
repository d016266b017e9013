"""Group commit for the SQLite store: every transaction waiting to commit goes in one trip.

SQLite has one writer, and a trip to its thread costs far more than the writes themselves.
So one committer task takes all transactions queued at that moment and runs them in a single
SQLite transaction, each inside its own SAVEPOINT: a transaction that fails (duplicate key,
stale version) is rolled back alone and gets its error; the others commit together. Batch
order is a serial order, so compare-and-set between transactions of one batch still holds.
A disk with no room fails the whole batch with ``StorageFull``, remembered (``full``) until a
batch commits again.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from dataclasses import dataclass
from typing import Any

from storage import sqlite_sql as sql
from storage.documents import (
    Document,
    DuplicateKey,
    NotFound,
    StorageFull,
    StoreError,
    VersionConflict,
)


@dataclass(frozen=True)
class Write:
    collection: str
    doc_id: str
    statement: str
    params: tuple[Any, ...]
    checked: bool  # a replace or delete: no row changed means a conflict or a missing document
    expected: int | None
    after: Document | None  # the document as its transaction now sees it; None once deleted


def commit_batch(
    conn: sqlite3.Connection, batch: list[list[Write]], tables: set[str]
) -> list[StoreError | None]:
    """Run each transaction of ``batch`` under a savepoint, then commit once (writer thread)."""
    outcomes: list[StoreError | None] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for writes in batch:
            conn.execute("SAVEPOINT tx")
            try:
                for w in writes:
                    _apply(conn, w, tables)
                conn.execute("RELEASE tx")
                outcomes.append(None)
            except StoreError as e:
                conn.execute("ROLLBACK TO tx")
                conn.execute("RELEASE tx")
                outcomes.append(e)
        conn.execute("COMMIT")
    except BaseException as e:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        if isinstance(e, sqlite3.OperationalError) and e.sqlite_errorcode == sqlite3.SQLITE_FULL:
            raise StorageFull(f"the database cannot grow: {e}") from e
        raise
    for writes, outcome in zip(batch, outcomes, strict=True):
        if outcome is None:
            tables.update(w.collection for w in writes)
    return outcomes


def _apply(conn: sqlite3.Connection, w: Write, tables: set[str]) -> None:
    if w.collection not in tables:
        conn.execute(sql.create_table(w.collection))
    try:
        changed = conn.execute(w.statement, w.params).rowcount
    except sqlite3.IntegrityError as e:
        raise DuplicateKey(f"{w.collection}: {e}") from e
    if w.checked and not changed:
        rows = conn.execute(sql.select_by_id(w.collection), (w.doc_id,)).fetchall()
        if not rows:
            raise NotFound(f"{w.collection}/{w.doc_id}")
        raise VersionConflict(
            f"{w.collection}/{w.doc_id}: expected version {w.expected}, found {rows[0][0]}"
        )


class GroupCommitter:
    """Queues transactions' writes; one task commits whatever has queued, batch after batch."""

    def __init__(self, conn: sqlite3.Connection, tables: set[str], *, max_batch: int = 256) -> None:
        self._conn = conn
        self._tables = tables
        self._max_batch = max_batch
        self._queue: list[tuple[list[Write], asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self.full: StorageFull | None = None  # the last batch failed for want of room

    async def commit(self, writes: list[Write]) -> None:
        """Commit ``writes`` atomically; raise its StoreError if this transaction failed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((writes, done))
        if self._task is None:
            self._task = asyncio.create_task(self._drain(), name="sqlite-group-commit")
        await done

    async def close(self) -> None:
        if self._task is not None:
            await self._task

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                try:
                    outcomes = await asyncio.to_thread(
                        commit_batch, self._conn, [w for w, _ in batch], self._tables
                    )
                    self.full = None
                except BaseException as e:  # the whole batch failed (e.g. disk I/O)
                    if isinstance(e, StorageFull):
                        self.full = e
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(e if isinstance(e, Exception) else StoreError(e))
                    if not isinstance(e, Exception):
                        raise
                    continue
                for (_, done), outcome in zip(batch, outcomes, strict=True):
                    if done.done():
                        continue
                    if outcome is None:
                        done.set_result(None)
                    else:
                        done.set_exception(outcome)
        finally:
            self._task = None
