"""Object-store port: streamed binary objects (photos, certificates) under validated keys."""

from __future__ import annotations

import abc
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

# Download links are bearer tokens: short-lived by default; S3 caps presigned URLs at 7 days.
LINK_LIFETIME = timedelta(minutes=5)
MAX_LINK_LIFETIME = timedelta(days=7)


class ObjectStoreError(Exception):
    """Base of every object-store failure."""


class ObjectNotFound(ObjectStoreError):
    """No object under that key."""


class ObjectTooLarge(ObjectStoreError):
    """The stream went past the caller's size cap; nothing was stored."""


class InvalidKey(ObjectStoreError):
    """The key is not a safe relative path (traversal, absolute, odd characters)."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str
    sha256: str


@dataclass(frozen=True)
class ListedObject:
    """An object found by ``ObjectStore.listing``: its key and when it was last put (UTC)."""

    key: str
    modified: datetime


# Segments of letters, digits, '-', '_', '.', joined by '/'; no '.' or '..' segment, no leading '/'.
_SEGMENT = re.compile(r"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,127}$")


def validate_key(key: str) -> str:
    """Return ``key`` if safe as an object key on every adapter, else raise InvalidKey."""
    if not key or len(key) > 512:
        raise InvalidKey(key)
    for segment in key.split("/"):
        if segment in {".", ".."} or not _SEGMENT.match(segment):
            raise InvalidKey(key)
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if keys may begin with it (``""``, ``cases/``, ``cases/BC1``), else
    raise InvalidKey: its folders are key segments, its last part the start of one."""
    *folders, last = prefix.split("/")
    if len(prefix) > 512 or (last and not _SEGMENT.match(last)):
        raise InvalidKey(prefix)
    for segment in folders:
        if segment in {".", ".."} or not _SEGMENT.match(segment):
            raise InvalidKey(prefix)
    return prefix


def check_older_than(older_than: datetime | None) -> None:
    """Refuse a naive ``older_than``: stores compare it with their own UTC times."""
    if older_than is not None and older_than.tzinfo is None:
        raise ValueError("older_than must be timezone-aware")


def check_link_lifetime(expires: timedelta) -> timedelta:
    """Return ``expires`` if a download link may live that long (1 s to 7 days), else ValueError."""
    if not timedelta(seconds=1) <= expires <= MAX_LINK_LIFETIME:
        raise ValueError(f"a download link lives 1 second to 7 days, not {expires}")
    return expires


class ObjectStore(abc.ABC):
    """Port: put/get/stat/delete of streamed objects, listing, and time-limited download links.

    Call ``open`` before use and ``close`` after (both do nothing on adapters that need nothing).
    """

    async def open(self) -> None:  # noqa: B027 - optional hook, most adapters need nothing
        """Prepare the store for use (e.g. create the bucket); idempotent."""

    async def close(self) -> None:  # noqa: B027
        """Release connections and threads."""

    @abc.abstractmethod
    async def put(
        self, key: str, chunks: AsyncIterable[bytes], *, content_type: str, max_bytes: int
    ) -> ObjectInfo:
        """Store the stream under ``key`` atomically; raise ObjectTooLarge past ``max_bytes``."""

    @abc.abstractmethod
    def get(self, key: str) -> AsyncIterator[bytes]:
        """Yield the object's bytes in chunks; raise ObjectNotFound when iteration starts."""

    @abc.abstractmethod
    async def stat(self, key: str) -> ObjectInfo: ...

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""

    def listing(
        self, prefix: str = "", *, older_than: datetime | None = None
    ) -> AsyncIterator[ListedObject]:
        """Every object whose key starts with ``prefix``, last put before ``older_than`` if given.

        In no particular order; an object put or deleted during the listing may or may not
        appear. Uploads in progress and the adapter's own bookkeeping never appear. Raises
        InvalidKey for a prefix no key could start with.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot list its objects")

    @abc.abstractmethod
    async def download_url(self, key: str, *, expires: timedelta = LINK_LIFETIME) -> str:
        """A URL that lets whoever holds it GET the object's bytes until ``expires`` from now.

        The URL is signed: a changed key, expiry or signature is refused. It does not check
        that the object exists (fetching a missing one answers 404).
        """

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise unless the store is reachable and usable."""

    def opener(self) -> Callable[[], ObjectStore]:
        """A picklable function that builds this same store in another process, ready to read.

        An OCR worker reads the photo it judges by key this way, so the process that asks
        for the judgement never holds the photo. Close the store it builds when done.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot be opened in another process")
