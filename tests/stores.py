"""Stores that pass everything to another: the bases of the tests' fault doubles, which
override only what they make fail."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta

from storage.documents import Document, DocumentStore, Filter, Sort, Transaction
from storage.objects import LINK_LIFETIME, ListedObject, ObjectInfo, ObjectStore


class DelegatingStore(DocumentStore):
    def __init__(self, inner: DocumentStore) -> None:
        self.inner = inner

    async def get(self, collection: str, doc_id: str) -> Document | None:
        return await self.inner.get(collection, doc_id)

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
        return await self.inner.find(
            collection, where, sort=sort, limit=limit, skip=skip, fields=fields
        )

    async def count(self, collection: str, where: Filter | None = None) -> int:
        return await self.inner.count(collection, where)

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        return self.inner.transaction()

    async def ping(self) -> None:
        await self.inner.ping()

    def watch(self, collection: str, callback: Callable[[], None]) -> None:
        self.inner.watch(collection, callback)


class DelegatingObjectStore(ObjectStore):
    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], *, content_type: str, max_bytes: int
    ) -> ObjectInfo:
        return await self.inner.put(key, chunks, content_type=content_type, max_bytes=max_bytes)

    def get(self, key: str) -> AsyncIterator[bytes]:
        return self.inner.get(key)

    async def stat(self, key: str) -> ObjectInfo:
        return await self.inner.stat(key)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    def listing(
        self, prefix: str = "", *, older_than: datetime | None = None
    ) -> AsyncIterator[ListedObject]:
        return self.inner.listing(prefix, older_than=older_than)

    async def download_url(self, key: str, *, expires: timedelta = LINK_LIFETIME) -> str:
        return await self.inner.download_url(key, expires=expires)

    async def ping(self) -> None:
        await self.inner.ping()

    def opener(self) -> Callable[[], ObjectStore]:
        return self.inner.opener()
