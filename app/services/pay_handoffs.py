"""Paying in the phone's own browser: WeChat's in-app browser cannot open Alipay's cashier.

The pay page opened in WeChat carries a link (its own address, which 「在浏览器打开」 takes along)
that is an opaque random token: no ID number, no account id. The store keeps only the token's
digest, with the case and the payer it was made for. Opened once within ``LINK_LIFE`` outside
WeChat, it becomes a pass: a second random token, in a cookie of that case's pay page only,
good for ``PASS_LIFE`` (the cashier's own 30 minutes), resumed like a session at each request.
Wall-clock time, as sessions use.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from app.domain.actors import Actor, Role
from app.services.sessions import Session, Use, wall_clock
from storage.documents import DocumentStore, StoreError
from storage.purges import delete_each

HANDOFFS = "pay_handoffs"
LINK_LIFE = timedelta(minutes=10)
PASS_LIFE = timedelta(minutes=30)


def _key(kind: str, token: str) -> str:
    """What the store keeps of a token: someone reading the store cannot use it."""
    return f"{kind}:{hashlib.sha256(token.encode()).hexdigest()}"


class PayHandoffs:
    def __init__(self, store: DocumentStore, *, clock: Callable[[], datetime] = wall_clock):
        self._store = store
        self._clock = clock

    async def link(self, actor: Actor, number: str) -> str:
        """A new single-use link token for ``actor`` to open ``number``'s pay page elsewhere."""
        now = self._clock()
        token = secrets.token_urlsafe(24)
        record = {
            "_id": _key("link", token),
            "case": number,
            "subject": actor.id,
            "role": actor.role.value,
            "expires_at": (now + LINK_LIFE).isoformat(),
            "used_at": None,
        }
        async with self._store.transaction() as tx:
            await tx.insert(HANDOFFS, record)
        await self._purge(now)
        return token

    async def still_good(self, token: str, actor: Actor, number: str) -> bool:
        """Whether the link the page carries can still be opened, and was made for this page."""
        record = await self._store.get(HANDOFFS, _key("link", token))
        return (
            record is not None
            and record["case"] == number
            and record["subject"] == actor.id
            and record["used_at"] is None
            and self._clock().isoformat() < record["expires_at"]
        )

    async def redeem(self, token: str, number: str) -> str | None:
        """Open the link once: a pass token for its payer and case, or None (forged, for another
        case, expired, or opened already)."""
        now = self._clock()
        record = await self._store.get(HANDOFFS, _key("link", token))
        if (
            record is None
            or record["case"] != number
            or record["used_at"] is not None
            or now.isoformat() >= record["expires_at"]
        ):
            return None
        passed = secrets.token_urlsafe(24)
        grant = {
            "_id": _key("pass", passed),
            "case": number,
            "subject": record["subject"],
            "role": record["role"],
            "issued_at": now.isoformat(),
            "expires_at": (now + PASS_LIFE).isoformat(),
        }
        try:
            async with self._store.transaction() as tx:
                used = {**record, "used_at": now.isoformat()}
                await tx.replace(HANDOFFS, used, expected_version=record["_version"])
                await tx.insert(HANDOFFS, grant)
        except StoreError:  # opened at the same moment elsewhere: only one of them wins
            return None
        return passed

    async def session(self, pass_token: str, number: str) -> Session | None:
        """The pass as a session of its payer, for ``number``'s pay page only; None otherwise.
        The caller resumes it (``AccountService.resume``): an account disabled since is refused."""
        record = await self._store.get(HANDOFFS, _key("pass", pass_token))
        now = self._clock()
        if record is None or record["case"] != number or now.isoformat() >= record["expires_at"]:
            return None
        return Session(
            id=record["_id"],
            actor=Actor(record["subject"], Role(record["role"])),
            use=Use.H5,
            issued_at=datetime.fromisoformat(record["issued_at"]),
            expires_at=datetime.fromisoformat(record["expires_at"]),
        )

    async def _purge(self, now: datetime) -> None:
        """Forget links and passes past their life, a few at a time, as new ones are made."""
        gone = await self._store.find(HANDOFFS, {"expires_at": {"$lt": now.isoformat()}}, limit=20)
        await delete_each(self._store, HANDOFFS, gone)
