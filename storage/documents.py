"""Document-store port: JSON documents in named collections, versioned, with atomic units of work.

Shaped so that SQLite (embedded default) and MongoDB adapters satisfy the same contract:
documents are plain dicts with a string ``_id`` and an integer ``_version``; every write goes
through a transaction; a replace names the version it expects (compare-and-set).
"""

from __future__ import annotations

import abc
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

Document = dict[str, Any]
# A filter is a mapping of dotted field path -> value (equality) or -> {"$op": value} with
# op in $eq, $ne, $in, $lt, $lte, $gt, $gte. All conditions are ANDed. This subset is what
# both adapters translate natively (SQL WHERE over json_extract, and Mongo's query language).
# Values are scalars (str, int, float, bool, None; $in takes a list of them) compared against
# scalar fields. None matches a missing field too ({"f": None}, {"f": {"$ne": None}}), and $ne
# matches documents lacking the field, as in MongoDB. Range operators compare values of the
# same type only (ISO date strings with ISO date strings); across types the adapters differ.
Filter = Mapping[str, Any]
# Sort: sequence of (dotted field path, 1 ascending | -1 descending). Missing fields sort first
# when ascending. Ties are broken by ``_id`` in the direction of the last key (so one index
# serves both directions); with no sort, documents come in ``_id`` order.
Sort = Sequence[tuple[str, int]]

OPERATORS = frozenset({"$eq", "$ne", "$in", "$lt", "$lte", "$gt", "$gte"})
FIELD_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_SCALARS = (str, int, float, bool, type(None))


class StoreError(Exception):
    """Base of every document-store failure."""


class VersionConflict(StoreError):
    """A replace or delete named a version that is no longer current (someone else wrote first)."""


class DuplicateKey(StoreError):
    """An insert collided with an existing ``_id`` or a unique index."""


class NotFound(StoreError):
    """A replace or delete named a document that does not exist."""


class StorageFull(StoreError):
    """No room to write (a full disk, the store's size cap): nothing of the transaction was
    written. Reads still work; the same write may succeed once space is freed."""


class TransactionAborted(StoreError):
    """The transaction was used or committed after one of its writes failed; nothing was written.

    A failed write (DuplicateKey, VersionConflict, NotFound) dooms its transaction on every
    adapter, because MongoDB aborts a transaction server-side on a write error: let the error
    escape and retry the whole unit of work, rather than catching it and going on.
    """


class Transaction(abc.ABC):
    """Writes that commit together or not at all; reads inside see the transaction's own writes."""

    @abc.abstractmethod
    async def get(self, collection: str, doc_id: str) -> Document | None: ...

    @abc.abstractmethod
    async def insert(self, collection: str, doc: Document) -> Document:
        """Insert ``doc`` (must carry ``_id``); stores and returns it with ``_version`` = 1."""

    @abc.abstractmethod
    async def replace(self, collection: str, doc: Document, *, expected_version: int) -> Document:
        """Replace by ``_id`` if the stored version is ``expected_version``; bump the version."""

    @abc.abstractmethod
    async def delete(
        self, collection: str, doc_id: str, *, expected_version: int | None = None
    ) -> None: ...


class DocumentStore(abc.ABC):
    """Port: reads outside transactions (committed data only), writes inside ``transaction()``."""

    @abc.abstractmethod
    async def get(self, collection: str, doc_id: str) -> Document | None: ...

    @abc.abstractmethod
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
        """The matching documents; with ``fields`` (dotted paths), only those fields, nested as
        stored, with ``_id`` and ``_version``: a field a document lacks is left out. A list
        that shows a line per document needs a fraction of each one."""

    @abc.abstractmethod
    async def count(self, collection: str, where: Filter | None = None) -> int: ...

    @abc.abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """``async with store.transaction() as tx:`` commits on normal exit, rolls back on error."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise if the store cannot be reached (used by /readyz)."""

    async def open(self) -> None:  # noqa: B027 - optional lifecycle hook
        """Connect and apply schema migrations; called once before first use."""

    def watch(self, collection: str, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every commit (on this instance) that wrote to ``collection``.

        The outbox's dispatchers are woken this way: whoever queues a message, the commit that
        queued it wakes them, and nobody has to remember to.
        """
        watchers: dict[str, list[Callable[[], None]]] = self.__dict__.setdefault("_watchers", {})
        watchers.setdefault(collection, []).append(callback)

    def _committed(self, collections: Iterable[str]) -> None:
        """Adapters call this once a transaction that wrote to ``collections`` has committed."""
        watchers: dict[str, list[Callable[[], None]]] = self.__dict__.get("_watchers", {})
        for collection in set(collections):
            for callback in watchers.get(collection, ()):
                callback()

    async def close(self) -> None:  # noqa: B027 - optional lifecycle hook
        """Release connections; the store is unusable afterwards."""


def check_field(path: str) -> str:
    """Return ``path`` if it is a dotted field path safe to put in a query, else ValueError."""
    if not FIELD_PATH.match(path) or ".." in path or path.endswith("."):
        raise ValueError(f"bad field path: {path!r}")
    return path


def parse_filter(where: Filter | None) -> list[tuple[str, str, Any]]:
    """Validate a filter and flatten it to ANDed ``(field, op, value)`` conditions."""
    conditions: list[tuple[str, str, Any]] = []
    for field, spec in (where or {}).items():
        check_field(field)
        ops = spec if isinstance(spec, Mapping) else {"$eq": spec}
        if not ops:
            raise ValueError(f"empty condition for {field!r}")
        for op, value in ops.items():
            if op not in OPERATORS:
                raise ValueError(f"unsupported operator {op!r} on {field!r}")
            values = value if op == "$in" else [value]
            if op == "$in" and not isinstance(value, list | tuple):
                raise ValueError(f"$in on {field!r} takes a list")
            if not all(isinstance(v, _SCALARS) for v in values):
                raise ValueError(f"filter values on {field!r} must be scalars")
            if value is None and op not in {"$eq", "$ne"}:
                raise ValueError(f"{op} None on {field!r} is not portable")
            conditions.append((field, op, list(values) if op == "$in" else value))
    return conditions


def parse_sort(sort: Sort) -> list[tuple[str, int]]:
    """Validate a sort and append the ``_id`` tie-break in the direction of the last key."""
    keys = [(check_field(field), direction) for field, direction in sort]
    if any(direction not in (1, -1) for _, direction in keys):
        raise ValueError(f"sort directions are 1 or -1: {sort!r}")
    if not any(field == "_id" for field, _ in keys):
        keys.append(("_id", keys[-1][1] if keys else 1))
    return keys


def check_fields(fields: Sequence[str]) -> list[str]:
    """Validate a projection's paths; none may hold another (Mongo refuses such a pair)."""
    paths = [check_field(f) for f in fields]
    for path in paths:
        if any(other.startswith(path + ".") for other in paths):
            raise ValueError(f"projection path {path!r} holds another of the list")
    return paths


def check_page(limit: int | None, skip: int) -> None:
    """Raise ValueError for a negative ``limit`` or ``skip``."""
    if (limit is not None and limit < 0) or skip < 0:
        raise ValueError("limit and skip must not be negative")


def document_id(doc: Document) -> str:
    """Return the document's ``_id``: a non-empty string, else ValueError."""
    doc_id = doc.get("_id")
    if not isinstance(doc_id, str) or not doc_id:
        raise ValueError("a document needs a non-empty string _id")
    return doc_id
