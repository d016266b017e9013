"""Accounts as the pages and the API meet them: who is signed in now, who a WeChat user is,
who applied (masked, for staff), and staff sign-in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from app.domain.actors import Actor, Role
from app.domain.cases import china_date
from app.domain.errors import NotFoundError
from app.domain.identity import mask_id_number
from app.services import staff
from app.services.accounts import USERS, account_of_openid, actor_for, applicant_label
from storage.documents import DocumentStore


class AccountService:
    def __init__(self, store: DocumentStore, *, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    async def current(self, actor: Actor) -> Actor | None:
        """``actor`` as the store knows them now: an applicant with today's authorities (never
        trusted from a token), None once their account is gone; staff as signed."""
        if actor.role is not Role.APPLICANT:
            return actor
        try:
            return await actor_for(self._store, actor.id, china_date(self._clock()))
        except NotFoundError:
            return None

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

    async def sign_in(self, username: str, password: str) -> Actor:
        """A staff member's sign-in; refused with ``staff.SignInFailed``."""
        return await staff.sign_in(self._store, username, password, self._clock())
