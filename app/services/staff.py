"""Staff sign-in: argon2 password hashes, a lockout after repeated failures, one answer for all.

A wrong password, an unknown account and a citizen's account all get the same sentence after
the same work (a hash is verified even for an unknown name), so the sign-in page tells an
attacker nothing about which accounts exist.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.domain.actors import Actor, Role
from app.domain.errors import NotPermitted
from app.services.accounts import USERS
from storage.documents import DocumentStore, VersionConflict

STAFF_ROLES = frozenset({Role.REVIEWER, Role.SUPERVISOR, Role.ADMIN, Role.COURIER, Role.KIOSK})
MAX_FAILURES = 5  # within FAILURE_WINDOW, then the account rests for LOCKOUT
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
DEMO_STAFF_PASSWORD = "demo-2026"  # noqa: S105 - demo mode only, documented in the README
WRONG = "账号或密码不正确，请重新输入"
LOCKED = "连续输错次数过多，账号已锁定 15 分钟，请稍后再试或联系管理员"

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


async def sign_in(store: DocumentStore, username: str, password: str, now: datetime) -> Actor:
    doc = await store.get(USERS, username.strip()) if username.strip() else None
    if doc is None or Role(doc["role"]) not in STAFF_ROLES or "password_hash" not in doc:
        await asyncio.to_thread(_verify, _decoy(), password)  # the same work either way
        raise SignInFailed(WRONG)
    locked_until = doc.get("locked_until")
    if locked_until and datetime.fromisoformat(locked_until) > now:
        raise SignInFailed(LOCKED)
    if not await asyncio.to_thread(_verify, doc["password_hash"], password):
        await _record_failure(store, doc, now)
        raise SignInFailed(WRONG)
    if doc.get("failures") or doc.get("locked_until"):
        await _replace(store, {**doc, "failures": [], "locked_until": None})
    return Actor(
        id=doc["_id"],
        role=Role(doc["role"]),
        department=doc.get("department"),
    )


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


async def _record_failure(store: DocumentStore, doc: dict[str, Any], now: datetime) -> None:
    since = now - FAILURE_WINDOW
    recent = [f for f in doc.get("failures", []) if datetime.fromisoformat(f) > since]
    recent.append(now.isoformat())
    locked = (now + LOCKOUT).isoformat() if len(recent) >= MAX_FAILURES else None
    await _replace(store, {**doc, "failures": [] if locked else recent, "locked_until": locked})


async def _replace(store: DocumentStore, doc: dict[str, Any]) -> None:
    try:
        async with store.transaction() as tx:
            await tx.replace(USERS, doc, expected_version=doc["_version"])
    except VersionConflict:
        pass  # another attempt at the same moment recorded its own outcome


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
    """Create a staff account or give an existing one a new password (and unlock it)."""
    if Role(role) not in STAFF_ROLES:
        raise ValueError(f"{role} is not a staff role")
    if Role(role) is Role.REVIEWER and not department:
        raise ValueError("a reviewer needs --department")
    hashed = await asyncio.to_thread(hash_password, password)
    doc = await store.get(USERS, username)
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
            return "created"
        if doc["role"] != role:
            raise ValueError(f"{username} exists with role {doc['role']}")
        changed = {**doc, "password_hash": hashed, "failures": [], "locked_until": None}
        await tx.replace(USERS, changed, expected_version=doc["_version"])
    return "password set"
