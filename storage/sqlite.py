"""SQLite document store: a table per collection of JSON bodies, expression indexes, WAL mode.

Connections: one writer, used only inside ``transaction()`` and serialised by an asyncio.Lock
(SQLite has one writer anyway; ``BEGIN IMMEDIATE`` takes the write lock up front, so two
processes queue on ``busy_timeout`` instead of failing at commit), and a few read-only
connections for reads outside transactions. A transaction spans many awaits, so a read on the
writer would see its uncommitted writes; a separate reader in WAL mode sees the last commit
only, and never waits for the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from storage import sqlite_sql as sql
from storage.documents import (
    Document,
    DocumentStore,
    DuplicateKey,
    Filter,
    NotFound,
    Sort,
    StoreError,
    Transaction,
    TransactionAborted,
    VersionConflict,
    document_id,
)
from storage.schema import COLLECTIONS, MIGRATIONS, Index

_PRAGMAS = (
    "PRAGMA busy_timeout = 5000",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA cache_size = -32768",
)


def _body(doc: Document) -> tuple[str, str]:
    doc_id = document_id(doc)
    body = {k: v for k, v in doc.items() if k not in ("_id", "_version")}
    return doc_id, json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _doc(doc_id: str, version: int, data: str) -> Document:
    return {"_id": doc_id, "_version": version, **json.loads(data)}


async def _fetch(
    conn: aiosqlite.Connection, statement: str, params: Sequence[Any]
) -> Iterable[Any]:
    try:
        return await conn.execute_fetchall(statement, params)
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):  # a collection nobody has written to yet is empty
            return []
        raise


async def _get(conn: aiosqlite.Connection, collection: str, doc_id: str) -> Document | None:
    for version, data in await _fetch(conn, sql.select_by_id(collection), (doc_id,)):
        return _doc(doc_id, version, data)
    return None


class SqliteDocumentStore(DocumentStore):
    """DocumentStore over one SQLite file; ``open()`` applies pending migrations."""

    def __init__(
        self,
        path: str | Path,
        *,
        migrations: Sequence[Sequence[Index]] = MIGRATIONS,
        collections: Sequence[str] = COLLECTIONS,
        readers: int = 2,
    ) -> None:
        self._path = Path(path)
        self._migrations = migrations
        self._collections = collections
        self._reader_count = readers
        self._writer: aiosqlite.Connection | None = None
        self._readers: list[aiosqlite.Connection] = []
        self._reads = 0
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._tables: set[str] = set()

    async def open(self) -> None:
        self._writer = await self._connect()
        await self._writer.execute("PRAGMA journal_mode = WAL")
        await self._migrate(self._writer)
        self._readers = [await self._connect(query_only=True) for _ in range(self._reader_count)]

    async def close(self) -> None:
        readers, self._readers = self._readers, []
        for conn in readers:
            await conn.close()
        if self._writer is not None:
            with contextlib.suppress(sqlite3.Error):
                await self._writer.execute("PRAGMA optimize")
            await self._writer.close()
            self._writer = None

    async def _connect(self, *, query_only: bool = False) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self._path, isolation_level=None)
        for pragma in _PRAGMAS:
            await conn.execute(pragma)
        if query_only:
            await conn.execute("PRAGMA query_only = ON")
        return conn

    async def _migrate(self, conn: aiosqlite.Connection) -> None:
        """Apply the migrations past ``PRAGMA user_version``, in one write transaction."""
        await conn.execute("BEGIN IMMEDIATE")
        try:
            ((applied,),) = await conn.execute_fetchall("PRAGMA user_version")
            for collection in self._collections:
                await conn.execute(sql.create_table(collection))
            for migration in self._migrations[applied:]:
                for index in migration:
                    await conn.execute(sql.create_table(index.collection))
                    await conn.execute(sql.create_index(index))
            if applied < len(self._migrations):
                await conn.execute(f"PRAGMA user_version = {len(self._migrations):d}")
            await conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                await conn.execute("ROLLBACK")
            raise
        rows = await conn.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        self._tables = {name for (name,) in rows}

    def _reader(self) -> aiosqlite.Connection:
        if not self._readers:
            raise StoreError("SqliteDocumentStore is not open")
        self._reads += 1
        return self._readers[self._reads % len(self._readers)]

    async def get(self, collection: str, doc_id: str) -> Document | None:
        return await _get(self._reader(), collection, doc_id)

    async def find(
        self,
        collection: str,
        where: Filter | None = None,
        *,
        sort: Sort = (),
        limit: int | None = None,
        skip: int = 0,
    ) -> list[Document]:
        statement, params = sql.select(collection, where, sort, limit, skip)
        return [_doc(*row) for row in await _fetch(self._reader(), statement, params)]

    async def count(self, collection: str, where: Filter | None = None) -> int:
        statement, params = sql.count(collection, where)
        return next((n for (n,) in await _fetch(self._reader(), statement, params)), 0)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        if self._writer is None:
            raise StoreError("SqliteDocumentStore is not open")
        if self._owner is not None and self._owner is asyncio.current_task():
            raise RuntimeError("nested transaction: this task already holds the write lock")
        conn = self._writer
        async with self._lock:
            self._owner = asyncio.current_task()
            tx = _SqliteTransaction(conn, self._tables)
            try:
                await conn.execute("BEGIN IMMEDIATE")
                yield tx
                if tx.failed is not None:
                    raise TransactionAborted("a write in this transaction failed") from tx.failed
                await conn.execute("COMMIT")
                self._tables |= tx.new_tables
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    await conn.execute("ROLLBACK")
                raise
            finally:
                tx.closed = True
                self._owner = None

    async def ping(self) -> None:
        await self._reader().execute_fetchall("SELECT 1")


class _SqliteTransaction(Transaction):
    def __init__(self, conn: aiosqlite.Connection, tables: set[str]) -> None:
        self._conn = conn
        self._tables = tables
        self.new_tables: set[str] = set()
        self.failed: StoreError | None = None
        self.closed = False

    def _usable(self) -> aiosqlite.Connection:
        if self.closed:
            raise StoreError("the transaction is over")
        if self.failed is not None:
            raise TransactionAborted("a write in this transaction failed") from self.failed
        return self._conn

    def _fail(self, error: StoreError) -> StoreError:
        self.failed = error
        return error

    async def _write(self, collection: str, statement: str, params: Sequence[Any]) -> int:
        """Run a write on ``collection`` (its table made on first write); return rows changed."""
        conn = self._usable()
        if collection not in self._tables and collection not in self.new_tables:
            await conn.execute(sql.create_table(collection))
            self.new_tables.add(collection)  # the store learns of it when this commits
        try:
            cursor = await conn.execute(statement, params)
        except sqlite3.IntegrityError as e:
            raise self._fail(DuplicateKey(f"{collection}: {e}")) from e
        return cursor.rowcount

    async def get(self, collection: str, doc_id: str) -> Document | None:
        return await _get(self._usable(), collection, doc_id)

    async def insert(self, collection: str, doc: Document) -> Document:
        doc_id, body = _body(doc)
        await self._write(collection, sql.insert(collection), (doc_id, body))
        return {**doc, "_version": 1}

    async def replace(self, collection: str, doc: Document, *, expected_version: int) -> Document:
        doc_id, body = _body(doc)
        params = (body, doc_id, expected_version)
        if not await self._write(collection, sql.update(collection), params):
            raise self._fail(await self._why_missed(collection, doc_id, expected_version))
        return {**doc, "_version": expected_version + 1}

    async def delete(
        self, collection: str, doc_id: str, *, expected_version: int | None = None
    ) -> None:
        versioned = expected_version is not None
        params = (doc_id, expected_version) if versioned else (doc_id,)
        if not await self._write(collection, sql.delete(collection, versioned=versioned), params):
            raise self._fail(await self._why_missed(collection, doc_id, expected_version))

    async def _why_missed(self, collection: str, doc_id: str, expected: int | None) -> StoreError:
        current = await _get(self._conn, collection, doc_id)
        if current is None:
            return NotFound(f"{collection}/{doc_id}")
        found = current["_version"]
        return VersionConflict(f"{collection}/{doc_id}: expected version {expected}, found {found}")
