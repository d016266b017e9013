"""The stores as a full disk leaves them, for the fault tests: reads work, writes fail while
``full`` is set (a test clears it to free space), with the errors the real adapters raise."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import AsyncIterable, AsyncIterator

from storage.documents import DocumentStore, StorageFull, Transaction
from storage.objects import ObjectInfo, ObjectStore
from tests.stores import DelegatingObjectStore, DelegatingStore


class FullDocuments(DelegatingStore):
    """A document store on a full disk: every commit fails with StorageFull, as SQLite's does
    once its file cannot grow (tests/service/test_sqlite_full_disk.py)."""

    def __init__(self, inner: DocumentStore) -> None:
        super().__init__(inner)
        self.full = True
        self.writes_tried = 0

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self.inner.transaction() as tx:
            yield tx
            if self.full:  # at commit, as SQLite finds no room for the pages
                self.writes_tried += 1
                raise StorageFull("database or disk is full")

    async def ping(self) -> None:
        await self.inner.ping()
        if self.full:
            raise StorageFull("database or disk is full")


class FullDirectory(DelegatingObjectStore):
    """An object store on a full filesystem: every write fails part-way with ENOSPC."""

    def __init__(self, inner: ObjectStore) -> None:
        super().__init__(inner)
        self.full = True

    @staticmethod
    def no_room() -> OSError:
        return OSError(errno.ENOSPC, "No space left on device")

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], *, content_type: str, max_bytes: int
    ) -> ObjectInfo:
        if self.full:
            async for _ in chunks:
                raise self.no_room()
        return await super().put(key, chunks, content_type=content_type, max_bytes=max_bytes)

    async def ping(self) -> None:
        if self.full:
            raise self.no_room()
        await super().ping()
