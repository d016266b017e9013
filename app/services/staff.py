"""Staff sign-in: argon2 password hashes, lockouts that hold under parallel guessing, one answer.

Every attempt is charged before its password is looked at: an insert-only record per attempt
(never a counter on the account, whose compare-and-set dropped concurrent failures), then a
recount. Beyond ``MAX_FAILURES`` attempts on one name, or ``PER_ADDRESS`` from one client
address, within ``FAILURE_WINDOW``, the attempt is refused without verifying anything, so even
a thousand guesses sent at once get at most ``MAX_FAILURES`` verifications per window. A
successful sign-in and a new password clear the name's attempts.

A wrong password, an unknown or disabled account and a citizen's account all get the same
sentence after the same work (a hash is verified even for an unknown name), and an unknown name
locks like a real one, so the sign-in page tells an attacker nothing about which accounts exist.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.domain.actors import Actor, Role
from app.domain.errors import NotPermitted
from app.services.accounts import USERS
from app.services.sessions import ending_all
from storage.documents import DocumentStore
from storage.purges import delete_each

STAFF_ROLES = frozenset({Role.REVIEWER, Role.SUPERVISOR, Role.ADMIN, Role.COURIER, Role.KIOSK})
ATTEMPTS = "sign_in_attempts"  # one record per attempt: the name tried, the client address, when
MAX_FAILURES = 5  # attempts on one name within FAILURE_WINDOW; the next is refused unverified
PER_ADDRESS = 20  # attempts from one client address within FAILURE_WINDOW, whatever the names
FAILURE_WINDOW = timedelta(minutes=15)  # so an account rests 15 minutes after the last guess
NAME_MAX = 64  # longer names are cut: no account has one, and records stay small
DEMO_STAFF_PASSWORD = "demo-2026"  # noqa: S105 - demo mode only, documented in the README
WRONG = "账号或密码不正确，请重新输入"
LOCKED = "连续输错次数过多，账号已锁定 15 分钟，请稍后再试或联系管理员"
TOO_MANY = "登录尝试过于频繁，请 15 分钟后再试"

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def demo_password_hash() -> str:
    """One hash for every demo staff account, made once per process (tests build many apps)."""
    return hash_password(DEMO_STAFF_PASSWORD)


@cache
def _decoy() -> str:
    return hash_password("not-a-password-of-anyone")


class SignInFailed(NotPermitted):
    """Wrong name or password, not staff, or locked; the message says which only when locked."""


class TooManyAttempts(SignInFailed):
    """Too many attempts from this client address, whichever names they tried."""


async def sign_in(
    store: DocumentStore, username: str, password: str, now: datetime, address: str | None = None
) -> Actor:
    """The staff member ``username`` names, if ``password`` is theirs and neither the name nor
    the ``address`` (the client's, None when unknown) has used up its attempts."""
    name = username.strip()[:NAME_MAX]
    since = (now - FAILURE_WINDOW).isoformat()
    async with store.transaction() as tx:  # charged first, whatever comes next
        record = {
            "_id": secrets.token_hex(12),
            "user": name,
            "addr": address,
            "at": now.isoformat(),
        }
        await tx.insert(ATTEMPTS, record)
    if (
        address
        and await store.count(ATTEMPTS, {"addr": address, "at": {"$gte": since}}) > PER_ADDRESS
    ):
        raise TooManyAttempts(TOO_MANY)
    if await store.count(ATTEMPTS, {"user": name, "at": {"$gte": since}}) > MAX_FAILURES:
        raise SignInFailed(LOCKED)  # an unknown name too: locking says nothing about existing
    doc = await store.get(USERS, name) if name else None
    usable = _usable(doc)
    hashed = doc["password_hash"] if doc is not None and usable else _decoy()
    if not await asyncio.to_thread(_verify, hashed, password) or doc is None or not usable:
        raise SignInFailed(WRONG)
    await _clear_attempts(store, name)
    return Actor(id=doc["_id"], role=Role(doc["role"]), department=doc.get("department"))


def _usable(doc: dict[str, Any] | None) -> bool:
    return (
        doc is not None
        and Role(doc["role"]) in STAFF_ROLES
        and "password_hash" in doc
        and not doc.get("disabled_at")
    )


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


async def _clear_attempts(store: DocumentStore, name: str) -> None:
    await delete_each(store, ATTEMPTS, await store.find(ATTEMPTS, {"user": name}, limit=1000))


async def purge_attempts(store: DocumentStore, now: datetime) -> int:
    """Forget attempts older than the window (they no longer count); returns how many went."""
    since = (now - FAILURE_WINDOW).isoformat()
    return await delete_each(
        store, ATTEMPTS, await store.find(ATTEMPTS, {"at": {"$lt": since}}, limit=500)
    )


async def set_staff_account(
    store: DocumentStore,
    username: str,
    *,
    role: str,
    department: str | None,
    name: str,
    password: str,
    now: datetime,
) -> str:
    """Create a staff account or give an existing one a new password: unlocked, enabled, and
    every session signed in with the old password ended."""
    if Role(role) not in STAFF_ROLES:
        raise ValueError(f"{role} is not a staff role")
    if Role(role) is Role.REVIEWER and not department:
        raise ValueError("a reviewer needs --department")
    hashed = await asyncio.to_thread(hash_password, password)
    doc = await store.get(USERS, username)
    if doc is not None and doc["role"] != role:
        raise ValueError(f"{username} exists with role {doc['role']}")
    async with store.transaction() as tx:
        if doc is None:
            await tx.insert(
                USERS,
                {
                    "_id": username,
                    "username": username,
                    "role": role,
                    "name": name,
                    "department": department,
                    "password_hash": hashed,
                    "created_at": now.isoformat(),
                },
            )
        else:  # every session of the old password ends; a disabled account is enabled again
            changed = ending_all({**doc, "password_hash": hashed, "disabled_at": None})
            await tx.replace(USERS, changed, expected_version=doc["_version"])
    await _clear_attempts(store, username)  # unlocked, even if the name was guessed before
    return "created" if doc is None else "password set"


async def disable_staff_account(store: DocumentStore, username: str, now: datetime) -> None:
    """Disable a staff account: no sign-in, and every session it has ends at its next request."""
    doc = await store.get(USERS, username)
    if doc is None or Role(doc["role"]) not in STAFF_ROLES:
        raise ValueError(f"{username} is not a staff account")
    async with store.transaction() as tx:
        changed = ending_all({**doc, "disabled_at": now.isoformat()})
        await tx.replace(USERS, changed, expected_version=doc["_version"])


async def link_staff_wechat(store: DocumentStore, username: str, openid: str | None) -> None:
    """Link a staff account to the WeChat account its 督办 pushes go to (None: unlink).

    Only the push address: the openid does not sign anyone in, and the chat keeps treating
    that WeChat user as whoever they bound as an applicant.
    """
    doc = await store.get(USERS, username)
    if doc is None or Role(doc["role"]) not in STAFF_ROLES:
        raise ValueError(f"no staff account named {username}")
    if openid is not None and not (0 < len(openid) <= 64 and openid.isprintable()):
        raise ValueError("an openid is 1 to 64 printable characters")
    async with store.transaction() as tx:
        await tx.replace(USERS, {**doc, "openid": openid}, expected_version=doc["_version"])
