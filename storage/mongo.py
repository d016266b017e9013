"""MongoDB document store over PyMongo's async API; transactions need a replica set (or sharding).

A standalone ``mongod`` rejects ``startTransaction``: run even a single node as a one-member
replica set (``mongod --replSet rs0`` then ``rs.initiate()``), as storage/compose.yaml does. The
contract suite runs here with ``BUCHUMEN_MONGODB_URI=mongodb://127.0.0.1:27017/?directConnection=true``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, DuplicateKeyError, OperationFailure, PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

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
    check_fields,
    check_page,
    document_id,
    parse_filter,
    parse_sort,
)
from storage.schema import COLLECTIONS, MIGRATIONS, Index

_WRITE_CONFLICT = 112
_NAMESPACE_EXISTS = 48  # creating a collection another instance made a moment before


def _query(where: Filter | None) -> dict[str, Any]:
    """The port's filter is Mongo syntax already; validate it so both adapters refuse the same."""
    query: dict[str, Any] = {}
    for field, op, value in parse_filter(where):
        query.setdefault(field, {})[op] = value
    return query


def _store_error(e: PyMongoError) -> StoreError:
    if isinstance(e, DuplicateKeyError):
        return DuplicateKey(str(e))
    if isinstance(e, OperationFailure) and (
        e.code == _WRITE_CONFLICT or e.has_error_label("TransientTransactionError")
    ):
        return VersionConflict(f"a concurrent transaction wrote first: {e}")
    return StoreError(str(e))


def _index_options(index: Index) -> dict[str, Any]:
    options: dict[str, Any] = {"name": index.name, "unique": index.unique}
    if index.unique:  # as in SQLite, documents lacking a unique field do not collide
        options["partialFilterExpression"] = {f: {"$exists": True} for f, _ in index.fields}
    return options


class MongoDocumentStore(DocumentStore):
    """DocumentStore over one MongoDB database; ``open()`` creates collections and indexes."""

    def __init__(
        self,
        uri: str,
        database: str,
        *,
        migrations: Sequence[Sequence[Index]] = MIGRATIONS,
        collections: Sequence[str] = COLLECTIONS,
    ) -> None:
        self._uri = uri
        self._database = database
        self._migrations = migrations
        self._collections = collections
        self._client: AsyncMongoClient[Document] | None = None

    async def open(self) -> None:
        self._client = AsyncMongoClient(self._uri, tz_aware=True)
        db = self._db()
        indexes = [index for migration in self._migrations for index in migration]
        wanted = {*self._collections, *(index.collection for index in indexes)}
        # Made up front: older servers cannot create a collection inside a transaction.
        for name in sorted(wanted - set(await db.list_collection_names())):
            try:
                await db.create_collection(name)
            except CollectionInvalid:
                pass
            except OperationFailure as e:
                # Another instance starting at the same moment made it first.
                if e.code != _NAMESPACE_EXISTS:
                    raise
        for index in indexes:  # create_index is idempotent, so every start applies them all
            await db[index.collection].create_index(list(index.keys), **_index_options(index))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def _db(self) -> AsyncDatabase[Document]:
        if self._client is None:
            raise StoreError("MongoDocumentStore is not open")
        return self._client[self._database]

    async def get(self, collection: str, doc_id: str) -> Document | None:
        return await self._db()[collection].find_one({"_id": doc_id})

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
        check_page(limit, skip)
        if limit == 0:  # Mongo reads limit 0 as "no limit"
            return []
        projection = None
        if fields is not None:  # _id comes unless excluded; _version is a field like others
            projection = dict.fromkeys(["_version", *check_fields(fields)], 1)
        cursor = self._db()[collection].find(
            _query(where), projection, sort=parse_sort(sort), skip=skip, limit=limit or 0
        )
        return await cursor.to_list()

    async def count(self, collection: str, where: Filter | None = None) -> int:
        return await self._db()[collection].count_documents(_query(where))

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        db = self._db()
        async with db.client.start_session() as session:
            await session.start_transaction(
                read_concern=ReadConcern("snapshot"), write_concern=WriteConcern("majority")
            )
            tx = _MongoTransaction(db, session)
            try:
                yield tx
                if tx.failed is not None:
                    raise TransactionAborted("a write in this transaction failed") from tx.failed
                try:
                    await session.commit_transaction()
                except PyMongoError as e:
                    raise _store_error(e) from e
                self._committed(tx.written)
            except BaseException:
                if session.in_transaction:
                    with contextlib.suppress(PyMongoError):
                        await session.abort_transaction()
                raise
            finally:
                tx.closed = True

    async def ping(self) -> None:
        await self._db().command("ping")


class _MongoTransaction(Transaction):
    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession) -> None:
        self._db = db
        self._session = session
        self.failed: StoreError | None = None
        self.closed = False
        self.written: set[str] = set()  # collections written to, for watchers after the commit

    def _usable(self) -> AsyncClientSession:
        if self.closed:
            raise StoreError("the transaction is over")
        if self.failed is not None:
            raise TransactionAborted("a write in this transaction failed") from self.failed
        return self._session

    def _fail(self, error: StoreError) -> StoreError:
        self.failed = error  # the server has aborted the transaction, or will refuse to commit
        return error

    async def get(self, collection: str, doc_id: str) -> Document | None:
        return await self._db[collection].find_one({"_id": doc_id}, session=self._usable())

    async def insert(self, collection: str, doc: Document) -> Document:
        stored = {**doc, "_id": document_id(doc), "_version": 1}
        self.written.add(collection)
        try:
            await self._db[collection].insert_one(stored, session=self._usable())
        except PyMongoError as e:
            raise self._fail(_store_error(e)) from e
        return stored

    async def replace(self, collection: str, doc: Document, *, expected_version: int) -> Document:
        doc_id = document_id(doc)
        stored = {**doc, "_version": expected_version + 1}
        self.written.add(collection)
        try:
            result = await self._db[collection].replace_one(
                {"_id": doc_id, "_version": expected_version}, stored, session=self._usable()
            )
        except PyMongoError as e:
            raise self._fail(_store_error(e)) from e
        if result.matched_count == 0:
            raise self._fail(await self._why_missed(collection, doc_id, expected_version))
        return stored

    async def delete(
        self, collection: str, doc_id: str, *, expected_version: int | None = None
    ) -> None:
        query: dict[str, Any] = {"_id": doc_id}
        if expected_version is not None:
            query["_version"] = expected_version
        self.written.add(collection)
        try:
            result = await self._db[collection].delete_one(query, session=self._usable())
        except PyMongoError as e:
            raise self._fail(_store_error(e)) from e
        if result.deleted_count == 0:
            raise self._fail(await self._why_missed(collection, doc_id, expected_version))

    async def _why_missed(self, collection: str, doc_id: str, expected: int | None) -> StoreError:
        current = await self._db[collection].find_one(
            {"_id": doc_id}, {"_version": 1}, session=self._session
        )
        if current is None:
            return NotFound(f"{collection}/{doc_id}")
        found = current["_version"]
        return VersionConflict(f"{collection}/{doc_id}: expected version {expected}, found {found}")
