"""Fixtures that run each port's contract suite over every adapter this machine can run.

To add an adapter, add one entry to DOCUMENT_BACKENDS or OBJECT_STORES.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from storage.documents import DocumentStore
from storage.files import FileObjectStore
from storage.mongo import MongoDocumentStore
from storage.objects import ObjectStore
from storage.schema import MIGRATIONS, Index
from storage.sqlite import SqliteDocumentStore

MONGO_SKIP = "set BUCHUMEN_MONGODB_URI to run the MongoDB contract tests"


# A backend makes stores over one database: calling it again reopens the same data.
MakeStore = Callable[..., DocumentStore]


@asynccontextmanager
async def sqlite_backend(tmp_path: Path) -> AsyncIterator[MakeStore]:
    path = tmp_path / "buchumen.sqlite3"

    def make(migrations: list[list[Index]] = MIGRATIONS) -> DocumentStore:
        return SqliteDocumentStore(path, migrations=migrations)

    yield make


@asynccontextmanager
async def mongo_backend(tmp_path: Path) -> AsyncIterator[MakeStore]:
    uri = os.environ.get("BUCHUMEN_MONGODB_URI")
    if not uri:
        pytest.skip(MONGO_SKIP)
    database = f"buchumen_test_{uuid.uuid4().hex[:12]}"

    def make(migrations: list[list[Index]] = MIGRATIONS) -> DocumentStore:
        return MongoDocumentStore(uri, database, migrations=migrations)

    try:
        yield make
    finally:
        client: AsyncMongoClient[Any] = AsyncMongoClient(uri)
        await client.drop_database(database)
        await client.close()


DOCUMENT_BACKENDS: dict[str, Callable[[Path], AbstractAsyncContextManager[MakeStore]]] = {
    "sqlite": sqlite_backend,
    "mongo": mongo_backend,
}


@asynccontextmanager
async def filesystem_store(tmp_path: Path) -> AsyncIterator[ObjectStore]:
    yield FileObjectStore(tmp_path / "objects")


OBJECT_STORES: dict[str, Callable[[Path], AbstractAsyncContextManager[ObjectStore]]] = {
    "filesystem": filesystem_store,
}


@pytest.fixture(
    params=[
        pytest.param(name, marks=[pytest.mark.mongo] if name == "mongo" else [])
        for name in DOCUMENT_BACKENDS
    ]
)
async def document_backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[MakeStore]:
    async with DOCUMENT_BACKENDS[request.param](tmp_path) as make:
        yield make


@pytest.fixture
async def document_store(document_backend: MakeStore) -> AsyncIterator[DocumentStore]:
    store = document_backend()
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(params=list(OBJECT_STORES))
async def object_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[ObjectStore]:
    async with OBJECT_STORES[request.param](tmp_path) as store:
        yield store
