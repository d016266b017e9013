"""Accounts as the pages and the API meet them: who is signed in now (and whether their session
still lives), who a WeChat user is, who applied (masked, for staff), staff sign-in and out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from app.domain.actors import Actor, Role
from app.domain.cases import china_date
from app.domain.identity import mask_id_number
from app.services import sessions, staff
from app.services.accounts import USERS, account_of_openid, applicant_label, with_authorities
from app.services.sessions import Session
from storage.documents import DocumentStore


class AccountService:
    def __init__(self, store: DocumentStore, *, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    async def of_openid(self, openid: str) -> Actor | None:
        """The person bound to this WeChat user, or None before binding."""
        return await account_of_openid(self._store, openid)

    async def applicant_label(self, account_id: str, uscc: str | None) -> dict[str, str]:
        return await applicant_label(self._store, account_id, uscc)

    async def name_of(self, account_id: str) -> str:
        account = await self._store.get(USERS, account_id) or {}
        return str(account.get("name", ""))

    async def masked_id_number(self, account_id: str) -> str:
        """The account's ID number as staff and principals may see it (PIPL), "" if none."""
        account = await self._store.get(USERS, account_id) or {}
        return mask_id_number(str(account.get("id_number") or ""))

    async def resume(self, session: Session) -> Actor | None:
        """The actor of a signed session if it still lives (not signed out, the account there,
        enabled, and no new password since); an applicant with today's authorities. None once
        ended: read from the store at every request, so every instance agrees."""
        account = await self._store.get(USERS, session.actor.id)
        if not sessions.live_for(session, account):
            return None
        if await sessions.has_ended(self._store, session):
            return None
        if session.actor.role is not Role.APPLICANT:
            return session.actor
        return await with_authorities(self._store, session.actor, china_date(self._clock()))

    async def sign_out(self, session: Session) -> None:
        """End ``session`` now, on every instance."""
        await sessions.end(self._store, session)

    async def sign_in(self, username: str, password: str, address: str | None = None) -> Actor:
        """A staff member's sign-in from the client ``address``; refused with
        ``staff.SignInFailed`` (``staff.TooManyAttempts`` when the address is over its limit)."""
        return await staff.sign_in(self._store, username, password, self._clock(), address)

    async def purge(self) -> int:
        """Forget sign-in attempts past their window and sign-outs past their token's expiry."""
        attempts = await staff.purge_attempts(self._store, self._clock())
        return attempts + await sessions.purge_ended(self._store)
