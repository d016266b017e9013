"""Fixtures that run each port's contract suite over every adapter this machine can run.

To add an adapter, add one entry to DOCUMENT_BACKENDS or OBJECT_STORES.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from minio import Minio
from pymongo import AsyncMongoClient

from app import keys
from app.web.files import file_routes
from storage.documents import DocumentStore
from storage.files import FileObjectStore
from storage.links import LinkSigner
from storage.minio import MinioObjectStore
from storage.mongo import MongoDocumentStore
from storage.objects import ObjectStore
from storage.schema import MIGRATIONS, Index
from storage.sqlite import SqliteDocumentStore
from tests.contract.mongo_standin import STANDIN_DEVIATIONS, standin
from tests.contract.s3_server import CheckedMotoServer

MONGO_SKIP = "set BUCHUMEN_MONGODB_URI to run the MongoDB contract tests"


# A backend makes stores over one database: calling it again reopens the same data.
MakeStore = Callable[..., DocumentStore]


@asynccontextmanager
async def sqlite_backend(tmp_path: Path, _: pytest.FixtureRequest) -> AsyncIterator[MakeStore]:
    path = tmp_path / "buchumen.sqlite3"

    def make(migrations: list[list[Index]] = MIGRATIONS) -> DocumentStore:
        return SqliteDocumentStore(path, migrations=migrations)

    yield make


@asynccontextmanager
async def mongo_backend(_: Path, __: pytest.FixtureRequest) -> AsyncIterator[MakeStore]:
    """A real MongoDB (a replica set: transactions), when BUCHUMEN_MONGODB_URI names one."""
    uri = os.environ.get("BUCHUMEN_MONGODB_URI")
    if not uri:
        pytest.skip(MONGO_SKIP)
    async with mongo_on(uri) as make:
        yield make


@asynccontextmanager
async def standin_backend(_: Path, request: pytest.FixtureRequest) -> AsyncIterator[MakeStore]:
    """The same adapter against nx-27017, the stand-in CI runs (see mongo_standin.py)."""
    async with mongo_on(request.getfixturevalue("standin_uri")) as make:
        yield make


@asynccontextmanager
async def mongo_on(uri: str) -> AsyncIterator[MakeStore]:
    database = f"buchumen_test_{uuid.uuid4().hex[:12]}"

    def make(migrations: list[list[Index]] = MIGRATIONS) -> DocumentStore:
        return MongoDocumentStore(uri, database, migrations=migrations)

    try:
        yield make
    finally:
        client: AsyncMongoClient[Any] = AsyncMongoClient(uri)
        await client.drop_database(database)
        await client.close()


Backend = Callable[[Path, pytest.FixtureRequest], AbstractAsyncContextManager[MakeStore]]
DOCUMENT_BACKENDS: dict[str, Backend] = {
    "sqlite": sqlite_backend,
    "mongo": mongo_backend,
    "mongo-standin": standin_backend,
}


@pytest.fixture(scope="session")
def standin_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One nx-27017 per test process, started on first use."""
    pytest.importorskip("nx_27017", reason="the MongoDB stand-in nx-27017 is not installed")
    with standin(tmp_path_factory.mktemp("mongo-standin")) as uri:
        yield uri


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that fails on the stand-in only because of one of its known deviations is
    expected to fail there, strictly: if the stand-in is fixed, the mark must go."""
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("document_backend")
        marker = item.get_closest_marker("standin_deviation")
        if backend == "mongo-standin" and marker is not None:
            reason = STANDIN_DEVIATIONS[marker.args[0]]
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))


class SigningClock:
    """What an object store takes for now when it signs a download link.

    Servers check links against real time; a test that moves this clock back signs a link that
    is already past its expiry, so expiry is tested without waiting.
    """

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass(frozen=True)
class StoreSite:
    """What an object-store factory may use: a scratch directory, the signing clock, fixtures."""

    tmp_path: Path
    clock: SigningClock
    request: pytest.FixtureRequest


@asynccontextmanager
async def filesystem_store(site: StoreSite) -> AsyncIterator[ObjectStore]:
    # Its links lead to our own service: serve /files/ as app/main.py does, verifying against
    # real time like an S3 server, while the store signs with the test's clock.
    secret = os.urandom(32)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    store = FileObjectStore(
        site.tmp_path / "objects",
        url_secret=secret,
        base_url=f"http://127.0.0.1:{port}",
        clock=site.clock,
    )
    app = web.Application()
    app[keys.OBJECTS] = store
    app.add_routes(file_routes(LinkSigner(secret)))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        yield store
    finally:
        await runner.cleanup()


MOTO_CREDENTIALS = {"buchumen-test": "buchumen-test-secret-key"}
MINIO_SKIP = (
    "set BUCHUMEN_MINIO_ENDPOINT, BUCHUMEN_MINIO_ACCESS_KEY and BUCHUMEN_MINIO_SECRET_KEY "
    "to run the MinIO contract tests against a real MinIO"
)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[CheckedMotoServer]:
    """One moto S3 per test process, started on first use."""
    server = CheckedMotoServer(MOTO_CREDENTIALS)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def minio_on(
    site: StoreSite, endpoint: str, access_key: str, secret_key: str, *, secure: bool
) -> AsyncIterator[ObjectStore]:
    """A MinioObjectStore on a bucket of its own, emptied and removed afterwards."""
    bucket = f"buchumen-test-{uuid.uuid4().hex[:16]}"
    store = MinioObjectStore(
        endpoint, access_key, secret_key, bucket, secure=secure, clock=site.clock
    )
    await store.open()
    try:
        yield store
    finally:
        await store.close()
        client = Minio(endpoint, access_key, secret_key, secure=secure)
        await asyncio.to_thread(drop_bucket, client, bucket)


def drop_bucket(client: Minio, bucket: str) -> None:
    for upload in client._list_multipart_uploads(bucket).uploads:  # the SDK has no public call
        client._abort_multipart_upload(bucket, str(upload.object_name), str(upload.upload_id))
    for obj in client.list_objects(bucket, recursive=True):
        client.remove_object(bucket, str(obj.object_name))
    client.remove_bucket(bucket)


@asynccontextmanager
async def moto_store(site: StoreSite) -> AsyncIterator[ObjectStore]:
    server: CheckedMotoServer = site.request.getfixturevalue("moto_server")
    [(access_key, secret_key)] = MOTO_CREDENTIALS.items()
    async with minio_on(site, server.endpoint, access_key, secret_key, secure=False) as store:
        yield store


@asynccontextmanager
async def minio_store(site: StoreSite) -> AsyncIterator[ObjectStore]:
    names = ("BUCHUMEN_MINIO_ENDPOINT", "BUCHUMEN_MINIO_ACCESS_KEY", "BUCHUMEN_MINIO_SECRET_KEY")
    endpoint, access_key, secret_key = (os.environ.get(name, "") for name in names)
    if not (endpoint and access_key and secret_key):
        pytest.skip(MINIO_SKIP)
    secure = os.environ.get("BUCHUMEN_MINIO_SECURE", "false").strip().lower() in {"1", "true"}
    async with minio_on(site, endpoint, access_key, secret_key, secure=secure) as store:
        yield store


OBJECT_STORES: dict[str, Callable[[StoreSite], AbstractAsyncContextManager[ObjectStore]]] = {
    "filesystem": filesystem_store,
    "moto": moto_store,  # the MinIO adapter against moto's S3
    "minio": minio_store,  # the MinIO adapter against a real MinIO, when one is configured
}


@pytest.fixture(
    params=[
        pytest.param(name, marks=[pytest.mark.mongo] if name.startswith("mongo") else [])
        for name in DOCUMENT_BACKENDS
    ]
)
async def document_backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[MakeStore]:
    async with DOCUMENT_BACKENDS[request.param](tmp_path, request) as make:
        yield make


@pytest.fixture
async def document_store(document_backend: MakeStore) -> AsyncIterator[DocumentStore]:
    store = document_backend()
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def signing_clock() -> SigningClock:
    return SigningClock()


@pytest.fixture(
    params=[
        pytest.param(name, marks=[pytest.mark.minio] if name == "minio" else [])
        for name in OBJECT_STORES
    ]
)
async def object_store(
    request: pytest.FixtureRequest, tmp_path: Path, signing_clock: SigningClock
) -> AsyncIterator[ObjectStore]:
    site = StoreSite(tmp_path, signing_clock, request)
    async with OBJECT_STORES[request.param](site) as store:
        yield store
