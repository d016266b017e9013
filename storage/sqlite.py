"""SQLite document store: a table per collection of JSON bodies, expression indexes, WAL mode.

Writes: a transaction buffers its writes; at commit they go to the single writer connection
through a group committer (storage/sqlite_commit.py), which runs every transaction then
waiting in one SQLite transaction, one savepoint each, in one trip to a worker thread.
Correctness rests on compare-and-set: a replace or delete names the version it read, and
inserts meet the primary key and unique indexes, all checked at commit; so a failure
(DuplicateKey, VersionConflict, NotFound) surfaces when the transaction commits, with nothing
of it written. A transaction with no writes costs nothing; reads inside one see its own writes.

Reads run on the event loop's own read-only connection when they are quick: a primary-key get
or a query over an index takes microseconds in WAL mode, far less than a hop to a thread (about
100 µs of CPU, with its GIL hand-offs). A query still running after ``LOOP_BUDGET`` seconds is
interrupted there and run again on one of a few aiosqlite reader threads, and its statement
goes to a thread directly for its next ``HEAVY_SKIPS`` runs, so a scan never holds the loop
for longer than the budget. In WAL mode readers see the last commit only and never wait for
the writer. Bodies are parsed with orjson: a chat message reads five or six documents, and
the standard parser took about a tenth of its CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite
import orjson

from storage import sqlite_sql as sql
from storage.documents import (
    Document,
    DocumentStore,
    DuplicateKey,
    Filter,
    Sort,
    StoreError,
    Transaction,
    TransactionAborted,
    document_id,
)
from storage.schema import COLLECTIONS, MIGRATIONS, Index
from storage.sqlite_commit import GroupCommitter, Write

PROBES = "store_probes"  # a probe write's scratch collection: see ``ping``
LOOP_BUDGET = 0.001  # seconds a query may take on the event loop's connection
HEAVY_SKIPS = 100  # runs of a statement that went over the budget sent to a thread directly
_CHECK_EVERY = 200  # SQLite VM instructions between looks at the clock

_PRAGMAS = (
    "PRAGMA busy_timeout = 5000",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA cache_size = -8192",  # 8 MB of pages per connection: the OS caches the file too
)


def _close_writer(conn: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):
        conn.execute("PRAGMA optimize")
    conn.close()


def _body(doc: Document) -> tuple[str, str]:
    doc_id = document_id(doc)
    body = {k: v for k, v in doc.items() if k not in ("_id", "_version")}
    return doc_id, json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _loads(text: str) -> Any:
    # orjson reads an integer beyond 64 bits as a float; none is ever stored (the API caps
    # the numbers it takes, and MongoDB refuses them, so the contract has none either).
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN or Infinity, which json.dumps writes and orjson refuses
        return json.loads(text)


def _doc(doc_id: str, version: int, data: str) -> Document:
    return {"_id": doc_id, "_version": version, **_loads(data)}


def _projected(fields: Sequence[str], row: Sequence[Any]) -> Document:
    """A projection's row, (id, version, then each field's JSON type and value), as a document."""
    doc: Document = {"_id": row[0], "_version": row[1]}
    for n, path in enumerate(fields):
        kind, value = row[2 + 2 * n], row[3 + 2 * n]
        if kind is None:  # the document lacks it
            continue
        if kind in ("object", "array"):
            value = _loads(value)
        elif kind in ("true", "false"):
            value = kind == "true"
        *parents, name = path.split(".")
        place = doc
        for parent in parents:
            place = place.setdefault(parent, {})
        place[name] = value
    return doc


def _enter_wal(conn: sqlite3.Connection, within: float = 5.0) -> None:
    """Switch the file to WAL (kept in the file, so only its first opening changes anything).

    Instances opening a new file together both want it alone for the switch; SQLite then
    answers one of them "locked" at once, without waiting out busy_timeout, so wait here.
    """
    give_up = time.monotonic() + within
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > give_up:
                raise
        time.sleep(0.01)


async def _fetch(
    conn: aiosqlite.Connection, statement: str, params: Sequence[Any]
) -> Iterable[Any]:
    try:
        return await conn.execute_fetchall(statement, params)
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):  # a collection nobody has written to yet is empty
            return []
        raise


class SqliteDocumentStore(DocumentStore):
    """DocumentStore over one SQLite file; ``open()`` applies pending migrations."""

    def __init__(
        self,
        path: str | Path,
        *,
        migrations: Sequence[Sequence[Index]] = MIGRATIONS,
        collections: Sequence[str] = COLLECTIONS,
        readers: int = 2,
        max_bytes: int | None = None,
    ) -> None:
        """``max_bytes``: how large the file may grow (a quota); a write past it fails with
        StorageFull, as on a full disk."""
        self._path = Path(path)
        self._max_bytes = max_bytes
        self._migrations = migrations
        self._collections = collections
        self._reader_count = readers
        self._writer: sqlite3.Connection | None = None
        self._readers: list[aiosqlite.Connection] = []
        self._loop_reader: sqlite3.Connection | None = None  # the event loop's thread only
        self._heavy: dict[str, int] = {}  # statements over the budget: runs left to skip
        self._deadline = 0.0
        self._reads = 0
        self._committer: GroupCommitter | None = None
        self._open_tasks: set[asyncio.Task[Any] | None] = set()
        self._tables: set[str] = set()

    async def open(self) -> None:
        self._writer = await asyncio.to_thread(self._open_writer)
        self._committer = GroupCommitter(self._writer, self._tables)
        self._readers = [await self._connect_reader() for _ in range(self._reader_count)]
        self._loop_reader = sqlite3.connect(self._path, isolation_level=None)
        for pragma in (*_PRAGMAS, "PRAGMA query_only = ON", "PRAGMA busy_timeout = 100"):
            self._loop_reader.execute(pragma)
        self._loop_reader.set_progress_handler(self._over_budget, _CHECK_EVERY)

    async def close(self) -> None:
        if self._loop_reader is not None:
            self._loop_reader.close()
            self._loop_reader = None
        readers, self._readers = self._readers, []
        for conn in readers:
            await conn.close()
        committer, self._committer = self._committer, None
        if committer is not None:
            await committer.close()  # let queued commits finish
        writer, self._writer = self._writer, None
        if writer is not None:
            await asyncio.to_thread(_close_writer, writer)

    def _open_writer(self) -> sqlite3.Connection:
        # Used from worker threads, one at a time under the store's lock.
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        for pragma in _PRAGMAS:
            conn.execute(pragma)
        _enter_wal(conn)
        if self._max_bytes is not None:
            ((page_size,),) = conn.execute("PRAGMA page_size").fetchall()
            conn.execute(f"PRAGMA max_page_count = {max(1, self._max_bytes // page_size):d}")
        self._migrate(conn)
        return conn

    async def _connect_reader(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self._path, isolation_level=None)
        for pragma in (*_PRAGMAS, "PRAGMA query_only = ON"):
            await conn.execute(pragma)
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Apply the migrations past ``PRAGMA user_version``, in one write transaction."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            ((applied,),) = conn.execute("PRAGMA user_version").fetchall()
            for collection in self._collections:
                conn.execute(sql.create_table(collection))
            for migration in self._migrations[applied:]:
                for index in migration:
                    conn.execute(sql.create_table(index.collection))
                    conn.execute(sql.create_index(index))
            if applied < len(self._migrations):
                conn.execute(f"PRAGMA user_version = {len(self._migrations):d}")
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        self._tables = {name for (name,) in rows}

    def _reader(self) -> aiosqlite.Connection:
        if not self._readers:
            raise StoreError("SqliteDocumentStore is not open")
        self._reads += 1
        return self._readers[self._reads % len(self._readers)]

    def _over_budget(self) -> bool:
        return time.perf_counter() > self._deadline  # True interrupts the statement

    async def _rows(self, statement: str, params: Sequence[Any]) -> Iterable[Any]:
        """The statement's rows: on the loop's connection if quick, else on a reader thread."""
        conn = self._loop_reader
        if conn is None:
            raise StoreError("SqliteDocumentStore is not open")
        skips = self._heavy.get(statement, 0)
        if skips:
            self._heavy[statement] = skips - 1
        else:
            self._deadline = time.perf_counter() + LOOP_BUDGET
            try:
                return conn.execute(statement, params).fetchall()
            except sqlite3.OperationalError as e:
                if "no such table" in str(e):  # a collection nobody has written to is empty
                    return []
                if "interrupted" not in str(e):
                    raise
            if len(self._heavy) > 1024:  # statements differ by filter shape: few, but bounded
                self._heavy.clear()
            self._heavy[statement] = HEAVY_SKIPS
        return await _fetch(self._reader(), statement, params)

    async def get(self, collection: str, doc_id: str) -> Document | None:
        rows = await self._rows(sql.select_by_id(collection), (doc_id,))
        return next((_doc(doc_id, *row) for row in rows), None)

    async def find(
        self,
        collection: str,
        where: Filter | None = None,
        *,
        sort: Sort = (),
        limit: int | None = None,
        skip: int = 0,
        fields: Sequence[str] | None = None,
    ) -> list[Document]:
        statement, params = sql.select(collection, where, sort, limit, skip, fields)
        rows = await self._rows(statement, params)
        if fields is None:
            return [_doc(*row) for row in rows]
        return [_projected(fields, row) for row in rows]

    async def count(self, collection: str, where: Filter | None = None) -> int:
        statement, params = sql.count(collection, where)
        return next((n for (n,) in await self._rows(statement, params)), 0)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        if self._writer is None:
            raise StoreError("SqliteDocumentStore is not open")
        task = asyncio.current_task()
        if task in self._open_tasks:
            raise RuntimeError("nested transaction: this task already has one open")
        self._open_tasks.add(task)
        tx = _SqliteTransaction(self)
        try:
            yield tx
            if tx.failed is not None:
                raise TransactionAborted("a write in this transaction failed") from tx.failed
            if tx.writes:
                assert self._committer is not None
                await self._committer.commit(tx.writes)
                self._committed(w.collection for w in tx.writes)
        finally:
            tx.closed = True
            self._open_tasks.discard(task)

    async def ping(self) -> None:
        """Raise if the file cannot be read; after a write failed for want of room, raise
        StorageFull until a probe write shows there is room again."""
        await self._reader().execute_fetchall("SELECT 1")
        if self._committer is not None and self._committer.full is not None:
            async with self.transaction() as tx:  # room for a few pages, then given back
                await tx.insert(PROBES, {"_id": "room", "pad": "0" * 16384})
                await tx.delete(PROBES, "room")


class _SqliteTransaction(Transaction):
    def __init__(self, store: SqliteDocumentStore) -> None:
        self._store = store
        self.writes: list[Write] = []
        self._seen: dict[tuple[str, str], Document | None] = {}
        self.failed: StoreError | None = None
        self.closed = False

    def _usable(self) -> None:
        if self.closed:
            raise StoreError("the transaction is over")
        if self.failed is not None:
            raise TransactionAborted("a write in this transaction failed") from self.failed

    def _buffer(self, write: Write) -> None:
        self._usable()
        self.writes.append(write)
        self._seen[(write.collection, write.doc_id)] = write.after

    async def get(self, collection: str, doc_id: str) -> Document | None:
        self._usable()
        if (collection, doc_id) in self._seen:
            doc = self._seen[(collection, doc_id)]
            return dict(doc) if doc is not None else None
        return await self._store.get(collection, doc_id)

    async def insert(self, collection: str, doc: Document) -> Document:
        doc_id, body = _body(doc)
        if (collection, doc_id) in self._seen and self._seen[(collection, doc_id)] is not None:
            self.failed = DuplicateKey(f"{collection}/{doc_id} inserted twice")
            raise self.failed
        after = {**doc, "_version": 1}
        self._buffer(
            Write(collection, doc_id, sql.insert(collection), (doc_id, body), False, None, after)
        )
        return dict(after)

    async def replace(self, collection: str, doc: Document, *, expected_version: int) -> Document:
        doc_id, body = _body(doc)
        after = {**doc, "_version": expected_version + 1}
        self._buffer(
            Write(
                collection,
                doc_id,
                sql.update(collection),
                (body, doc_id, expected_version),
                True,
                expected_version,
                after,
            )
        )
        return dict(after)

    async def delete(
        self, collection: str, doc_id: str, *, expected_version: int | None = None
    ) -> None:
        versioned = expected_version is not None
        params = (doc_id, expected_version) if versioned else (doc_id,)
        statement = sql.delete(collection, versioned=versioned)
        self._buffer(Write(collection, doc_id, statement, params, True, expected_version, None))
