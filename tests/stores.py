"""A document store that passes everything to another: the base of the tests' fault doubles,
which override only what they make fail."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

from storage.documents import Document, DocumentStore, Filter, Sort, Transaction


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
