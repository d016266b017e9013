"""The configured document and object stores: SQLite and a directory by default, MongoDB and
MinIO when the settings say so."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from app.settings import Settings
from storage.documents import DocumentStore
from storage.files import FileObjectStore
from storage.objects import ObjectStore

Clock = Callable[[], datetime]


def document_store(settings: Settings) -> DocumentStore:
    if settings.document_store == "mongodb":
        from storage.mongo import MongoDocumentStore

        assert settings.mongodb_uri is not None  # enforced by Settings validation
        return MongoDocumentStore(
            settings.mongodb_uri.get_secret_value(), settings.mongodb_database
        )
    from storage.sqlite import SqliteDocumentStore

    return SqliteDocumentStore(settings.resolved_sqlite_path)


@contextlib.asynccontextmanager
async def open_documents(settings: Settings) -> AsyncIterator[DocumentStore]:
    """The configured document store, opened (schema migrated) for the duration of the block."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = document_store(settings)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def link_secret(settings: Settings) -> bytes:
    """The filesystem store's link key: derived from the JWT secret, never equal to it."""
    return hmac.new(settings.jwt_key.encode(), b"buchumen file links v1", hashlib.sha256).digest()


def object_store(settings: Settings, clock: Clock) -> ObjectStore:
    if settings.object_store == "minio":
        from storage.minio import MinioObjectStore

        # All three are enforced by Settings validation.
        assert settings.minio_endpoint is not None
        assert settings.minio_access_key is not None and settings.minio_secret_key is not None
        # Its links are signed on real time, not ``clock``: MinIO checks them on its own clock.
        return MinioObjectStore(
            settings.minio_endpoint,
            settings.minio_access_key.get_secret_value(),
            settings.minio_secret_key.get_secret_value(),
            settings.minio_bucket,
            secure=settings.minio_secure,
            region=settings.minio_region,
            public_url=settings.minio_public_url,
        )
    return FileObjectStore(
        settings.resolved_objects_dir,
        url_secret=link_secret(settings),
        base_url=settings.public_base_url,
        clock=clock,
    )


@contextlib.asynccontextmanager
async def open_objects(settings: Settings, clock: Clock) -> AsyncIterator[ObjectStore]:
    store = object_store(settings, clock)
    await store.open()
    try:
        yield store
    finally:
        await store.close()
