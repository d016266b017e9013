"""Helpers for the hall appointment tests (the ``hall`` fixture is in conftest.py)."""

from __future__ import annotations

from datetime import date, time

from app.domain.actors import Actor, Role
from app.services.hall_admin import HALL_RULES
from storage.sqlite import SqliteDocumentStore

TUESDAY, NINE = date(2026, 11, 3), time(9)  # the test clock starts on Monday morning
ME = Actor("wx-me", Role.APPLICANT)
ADMIN = Actor("admin", Role.ADMIN)


async def matter_code(store: SqliteDocumentStore) -> str:
    """The demo catalog's one matter of the civil affairs bureau (mz)."""
    [matter] = await store.find("matters", {"department": "mz"})
    return str(matter["_id"])


async def with_capacity(store: SqliteDocumentStore, capacity: int) -> None:
    async with store.transaction() as tx:
        await tx.insert(HALL_RULES, {"_id": "mz", "capacity": capacity})
