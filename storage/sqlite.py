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
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

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
    parse_filter,
    parse_sort,
)
from storage.schema import COLLECTIONS, MIGRATIONS, Index

_COLLECTION = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_COMPARE = {"$eq": "=", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}
_PRAGMAS = (
    "PRAGMA busy_timeout = 5000",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA cache_size = -32768",
)


def _table(collection: str) -> str:
    if not _COLLECTION.match(collection) or collection.startswith("sqlite"):
        raise ValueError(f"bad collection name: {collection!r}")
    return f'"{collection}"'


def _column(field: str) -> str:
    """SQL for a validated field path; indexes and queries share it so the planner matches them."""
    if field == "_id":
        return "id"
    if field == "_version":
        return "version"
    return f"json_extract(data, '$.{field}')"


def _where(where: Filter | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for field, op, value in parse_filter(where):
        column = _column(field)
        if op == "$in":
            present = [v for v in value if v is not None]
            alternatives = [f"{column} IN ({', '.join('?' * len(present))})"] if present else []
            if len(present) < len(value):
                alternatives.append(f"{column} IS NULL")
            clauses.append(f"({' OR '.join(alternatives)})" if alternatives else "0")
            params.extend(present)
        elif value is None:
            clauses.append(f"{column} IS {'NOT ' if op == '$ne' else ''}NULL")
        else:
            # IS NOT is SQL's null-safe inequality: $ne matches documents lacking the field.
            clauses.append(f"{column} {'IS NOT' if op == '$ne' else _COMPARE[op]} ?")
            params.append(value)
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), params


def _order(sort: Sort) -> str:
    return ", ".join(f"{_column(f)} {'ASC' if d == 1 else 'DESC'}" for f, d in parse_sort(sort))


def _index_sql(index: Index) -> str:
    columns = ", ".join(f"{_column(f)}{' DESC' if d == -1 else ''}" for f, d in index.keys)
    unique = "UNIQUE " if index.unique else ""
    return f'CREATE {unique}INDEX IF NOT EXISTS "{index.name}" ON {_table(index.collection)} ({columns})'


def _create_sql(table: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {table} "
        "(id TEXT PRIMARY KEY, version INTEGER NOT NULL, data TEXT NOT NULL)"
    )


def _body(doc: Document) -> tuple[str, str]:
    doc_id = doc.get("_id")
    if not isinstance(doc_id, str) or not doc_id:
        raise ValueError("a document needs a non-empty string _id")
    body = {k: v for k, v in doc.items() if k not in ("_id", "_version")}
    return doc_id, json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _doc(doc_id: str, version: int, data: str) -> Document:
    return {"_id": doc_id, "_version": version, **json.loads(data)}


async def _fetch(conn: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> Iterable[Any]:
    try:
        return await conn.execute_fetchall(sql, params)
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
        for conn in self._readers:
            await conn.close()
        self._readers = []
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
                await conn.execute(_create_sql(_table(collection)))
            for migration in self._migrations[applied:]:
                for index in migration:
                    await conn.execute(_create_sql(_table(index.collection)))
                    await conn.execute(_index_sql(index))
            if applied < len(self._migrations):
                await conn.execute(f"PRAGMA user_version = {len(self._migrations):d}")
            await conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                await conn.execute("ROLLBACK")
            raise
        rows = await conn.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        self._tables = {f'"{name}"' for (name,) in rows}

    def _reader(self) -> aiosqlite.Connection:
        if not self._readers:
            raise StoreError("SqliteDocumentStore is not open")
        self._reads += 1
        return self._readers[self._reads % len(self._readers)]

    async def get(self, collection: str, doc_id: str) -> Document | None:
        sql = f"SELECT version, data FROM {_table(collection)} WHERE id = ?"
        for version, data in await _fetch(self._reader(), sql, (doc_id,)):
            return _doc(doc_id, version, data)
        return None

    async def find(
        self,
        collection: str,
        where: Filter | None = None,
        *,
        sort: Sort = (),
        limit: int | None = None,
        skip: int = 0,
    ) -> list[Document]:
        if (limit is not None and limit < 0) or skip < 0:
            raise ValueError("limit and skip must not be negative")
        clause, params = _where(where)
        sql = f"SELECT id, version, data FROM {_table(collection)}{clause} ORDER BY {_order(sort)}"
        if limit is not None or skip:
            sql += " LIMIT ? OFFSET ?"
            params += [-1 if limit is None else limit, skip]
        return [_doc(*row) for row in await _fetch(self._reader(), sql, params)]

    async def count(self, collection: str, where: Filter | None = None) -> int:
        clause, params = _where(where)
        rows = await _fetch(
            self._reader(), f"SELECT count(*) FROM {_table(collection)}{clause}", params
        )
        return next((n for (n,) in rows), 0)

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

    async def _writable(self, collection: str) -> str:
        table = _table(collection)
        if table not in self._tables and table not in self.new_tables:
            await self._usable().execute(_create_sql(table))
            self.new_tables.add(table)  # known to the store once this transaction commits
        return table

    async def get(self, collection: str, doc_id: str) -> Document | None:
        sql = f"SELECT version, data FROM {_table(collection)} WHERE id = ?"
        for version, data in await _fetch(self._usable(), sql, (doc_id,)):
            return _doc(doc_id, version, data)
        return None

    async def insert(self, collection: str, doc: Document) -> Document:
        doc_id, body = _body(doc)
        table = await self._writable(collection)
        try:
            await self._usable().execute(
                f"INSERT INTO {table} (id, version, data) VALUES (?, 1, ?)", (doc_id, body)
            )
        except sqlite3.IntegrityError as e:
            raise self._fail(DuplicateKey(f"{collection}/{doc_id}: {e}")) from e
        return {**doc, "_version": 1}

    async def replace(self, collection: str, doc: Document, *, expected_version: int) -> Document:
        doc_id, body = _body(doc)
        table = await self._writable(collection)
        sql = f"UPDATE {table} SET version = version + 1, data = ? WHERE id = ? AND version = ?"
        try:
            cursor = await self._usable().execute(sql, (body, doc_id, expected_version))
        except sqlite3.IntegrityError as e:
            raise self._fail(DuplicateKey(f"{collection}/{doc_id}: {e}")) from e
        if cursor.rowcount == 0:
            raise self._fail(await self._why_missed(collection, doc_id, expected_version))
        return {**doc, "_version": expected_version + 1}

    async def delete(
        self, collection: str, doc_id: str, *, expected_version: int | None = None
    ) -> None:
        table = await self._writable(collection)
        if expected_version is None:
            cursor = await self._usable().execute(f"DELETE FROM {table} WHERE id = ?", (doc_id,))
        else:
            sql = f"DELETE FROM {table} WHERE id = ? AND version = ?"
            cursor = await self._usable().execute(sql, (doc_id, expected_version))
        if cursor.rowcount == 0:
            raise self._fail(await self._why_missed(collection, doc_id, expected_version))

    async def _why_missed(self, collection: str, doc_id: str, expected: int | None) -> StoreError:
        current = await self.get(collection, doc_id)
        if current is None:
            return NotFound(f"{collection}/{doc_id}")
        return VersionConflict(
            f"{collection}/{doc_id}: expected version {expected}, found {current['_version']}"
        )
