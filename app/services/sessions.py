"""Sessions that end: every signed token names its session, and the store says whether it lives.

A token is a session of one ``Use`` (a staff page cookie, an H5 page cookie, an API bearer
token) and is refused anywhere else. It lives until it expires unless the store says it ended:
a record in ``sessions`` under its id (signed out), or the account's ``sessions_from`` later
than the token's issue (a new password, a disabled account: every earlier session ends). Every
request reads the store, so an ended session is refused on every instance at its next request.

Tokens are stamped with wall-clock time (their expiry is checked against it), so these stamps
are wall-clock time too, never the business clock a test or a replay may move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from app.domain.actors import Actor
from storage.documents import DocumentStore, DuplicateKey
from storage.purges import delete_each

ENDED = "sessions"  # one record per signed-out session, _id = the token's jti


class Use(StrEnum):
    """What a token was issued for; it opens nothing else."""

    STAFF = "staff"  # the staff pages' cookie (/staff/, /courier/, /kiosk/)
    H5 = "h5"  # the applicant's phone pages' cookie (/h5/)
    API = "api"  # an Authorization: Bearer token for /api/v1


@dataclass(frozen=True)
class Session:
    """One signed-in session as its token states it (signature and expiry already checked)."""

    id: str
    actor: Actor
    use: Use
    issued_at: datetime
    expires_at: datetime


def wall_clock() -> datetime:
    return datetime.now(UTC)


def live_for(session: Session, account: dict[str, Any] | None) -> bool:
    """Whether ``account`` (as stored now) still honours ``session``; the ended record aside."""
    if account is None or account.get("deleted_at") or account.get("disabled_at"):
        return False
    if account.get("role") != session.actor.role.value:
        return False
    since = account.get("sessions_from")
    return not since or session.issued_at >= datetime.fromisoformat(since)


async def has_ended(store: DocumentStore, session: Session) -> bool:
    return await store.get(ENDED, session.id) is not None


async def end(store: DocumentStore, session: Session) -> None:
    """Sign ``session`` out, for every instance; ending it twice is ending it once."""
    record = {
        "_id": session.id,
        "subject": session.actor.id,
        "use": session.use.value,
        "ended_at": wall_clock().isoformat(),
        "expires_at": session.expires_at.isoformat(),  # kept until then, then purged
    }
    try:
        async with store.transaction() as tx:
            await tx.insert(ENDED, record)
    except DuplicateKey:
        pass  # signed out already (two taps, two tabs)


def ending_all(account: dict[str, Any]) -> dict[str, Any]:
    """``account`` with every session issued until now ended (to be written by the caller)."""
    return {**account, "sessions_from": wall_clock().isoformat()}


async def purge_ended(store: DocumentStore) -> int:
    """Forget sign-outs whose tokens have expired anyway; returns how many went."""
    gone = await store.find(ENDED, {"expires_at": {"$lt": wall_clock().isoformat()}}, limit=500)
    return await delete_each(store, ENDED, gone)
