"""The account's access token, shared by every instance through the document store.

WeChat allows about 2000 token fetches a day and a fetch makes the previous token expire
within 5 minutes, so instances must not refresh on their own: one instance takes a lease by
compare-and-set, fetches, and stores; the others poll the store briefly and use what it stored.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.errors import WeChatError
from storage.documents import (
    Document,
    DocumentStore,
    DuplicateKey,
    NotFound,
    TransactionAborted,
    VersionConflict,
)

TOKENS = "wechat_tokens"
Fetch = Callable[[], Awaitable[tuple[str, int]]]
Clock = Callable[[], datetime]
_LOST_RACE = (DuplicateKey, VersionConflict, NotFound, TransactionAborted)


class TokenLeaseTimeout(WeChatError, TimeoutError):
    """Another instance held the refresh lease for longer than this one would wait."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _before(stamp: Any, now: datetime) -> bool:
    """True if ``stamp`` (ISO text or None) is missing or not after ``now``."""
    return not isinstance(stamp, str) or datetime.fromisoformat(stamp) <= now


class TokenCache:
    """``get(fetch)`` returns a fresh access token of one appid, refreshing it at most once."""

    def __init__(
        self,
        store: DocumentStore,
        appid: str,
        *,
        clock: Clock = utcnow,
        refresh_early: timedelta = timedelta(minutes=5),
        lease: timedelta = timedelta(seconds=20),
        poll_interval: float = 0.1,
        polls: int = 50,
    ) -> None:
        self._store = store
        self._id = f"wechat:access_token:{appid}"
        self._clock = clock
        self._early = refresh_early
        self._lease = lease
        self._poll_interval = poll_interval
        self._polls = polls

    def __repr__(self) -> str:
        return f"TokenCache({self._id!r})"

    async def get(self, fetch: Fetch) -> str:
        """The stored token if fresh; else refresh it under the lease, or wait for who holds it."""
        for _ in range(self._polls + 1):
            doc = await self._store.get(TOKENS, self._id)
            now = self._clock()
            if doc is not None and doc.get("token") and not _before(doc.get("refresh_at"), now):
                return str(doc["token"])
            if doc is None or _before(doc.get("lease_until"), now):
                owner = await self._take_lease(doc, now)
                if owner is not None:
                    return await self._refresh(fetch, owner)
            await asyncio.sleep(self._poll_interval)
        raise TokenLeaseTimeout("another instance is still refreshing the WeChat access token")

    async def invalidate(self, token: str) -> None:
        """Forget ``token`` if it is still the stored one (a newer token is left alone)."""
        try:
            async with self._store.transaction() as tx:
                current = await tx.get(TOKENS, self._id)
                if current is None or current.get("token") != token:
                    return
                cleared = {**current, "token": None, "expires_at": None, "refresh_at": None}
                await tx.replace(TOKENS, cleared, expected_version=current["_version"])
        except _LOST_RACE:
            pass  # someone wrote first: the token changed already

    async def _take_lease(self, seen: Document | None, now: datetime) -> str | None:
        """Compare-and-set a lease on the document as ``seen``; the lease's owner, or None."""
        owner = secrets.token_hex(8)
        lease = {"lease_until": _iso(now + self._lease), "lease_owner": owner}
        try:
            async with self._store.transaction() as tx:
                if seen is None:
                    fresh = {"_id": self._id, "token": None, "expires_at": None, "refresh_at": None}
                    await tx.insert(TOKENS, {**fresh, **lease})
                else:
                    await tx.replace(TOKENS, {**seen, **lease}, expected_version=seen["_version"])
        except _LOST_RACE:
            return None
        return owner

    async def _refresh(self, fetch: Fetch, owner: str) -> str:
        try:
            token, expires_in = await fetch()
        except BaseException:
            await self._store_if_owner(owner, {"lease_until": None, "lease_owner": None})
            raise
        now = self._clock()
        ttl = timedelta(seconds=max(int(expires_in), 1))
        fields = {
            "token": token,
            "expires_at": _iso(now + ttl),
            # 5 minutes early, but never so early that a short-lived token is never fresh
            "refresh_at": _iso(now + ttl - min(self._early, ttl / 2)),
            "fetched_at": _iso(now),
            "lease_until": None,
            "lease_owner": None,
        }
        await self._store_if_owner(owner, fields)
        return token

    async def _store_if_owner(self, owner: str, fields: dict[str, Any]) -> None:
        """Write ``fields`` unless another instance took the lease over (ours expired)."""
        try:
            async with self._store.transaction() as tx:
                current = await tx.get(TOKENS, self._id)
                if current is None or current.get("lease_owner") != owner:
                    return
                doc = {**current, **fields}
                await tx.replace(TOKENS, doc, expected_version=current["_version"])
        except _LOST_RACE:
            pass
