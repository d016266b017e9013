"""Working-day calendar use cases: statutory data plus administrator overrides kept in the store."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from app.domain.actors import Actor, Role
from app.domain.errors import NotPermitted, ValidationFailed
from app.domain.workdays import WorkCalendar, chinese_statutory
from app.services.audit import AUDIT, audit_record
from storage.documents import DocumentStore

OVERRIDES = "calendar_overrides"


class CalendarService:
    """Serves a WorkCalendar; overrides are re-read at most every ``ttl`` seconds per instance."""

    def __init__(
        self,
        store: DocumentStore,
        *,
        ttl: float = 60.0,
        statutory: Callable[[date], bool | None] = chinese_statutory,
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._statutory = statutory
        self._cached: WorkCalendar | None = None
        self._loaded_at = 0.0

    async def calendar(self) -> WorkCalendar:
        if self._cached is None or time.monotonic() - self._loaded_at > self._ttl:
            docs = await self._store.find(OVERRIDES)
            overrides = {date.fromisoformat(d["_id"]): bool(d["workday"]) for d in docs}
            self._cached = WorkCalendar(overrides=overrides, statutory=self._statutory)
            self._loaded_at = time.monotonic()
        return self._cached

    async def overrides(self, year: int | None = None) -> list[dict[str, Any]]:
        where = {"year": year} if year is not None else None
        return await self._store.find(OVERRIDES, where, sort=[("_id", 1)])

    async def set_override(
        self, actor: Actor, day: date, *, workday: bool, note: str, now: datetime
    ) -> dict[str, Any]:
        """Record whether ``day`` is a working day, e.g. once the State Council publishes."""
        if actor.role is not Role.ADMIN:
            raise NotPermitted("只有管理员可以调整工作日历")
        if not note.strip():
            raise ValidationFailed("请说明调整依据，例如国务院办公厅放假安排通知的文号")
        doc: dict[str, Any] = {
            "_id": day.isoformat(),
            "year": day.year,
            "workday": workday,
            "note": note.strip(),
            "by": actor.id,
            "at": now.isoformat(),
        }
        async with self._store.transaction() as tx:
            current = await tx.get(OVERRIDES, doc["_id"])
            if current is None:
                saved = await tx.insert(OVERRIDES, doc)
            else:
                saved = await tx.replace(OVERRIDES, doc, expected_version=current["_version"])
            detail = {"workday": workday, "note": doc["note"]}
            record = audit_record(
                f"calendar:{doc['_id']}", "calendar.override", actor.id, now, detail
            )
            await tx.insert(AUDIT, record)
        self._cached = None
        return saved

    async def uncovered_years(self, today: date) -> list[int]:
        """Years the service will count in soon for which no statutory data exists yet."""
        cal = await self.calendar()
        return [y for y in (today.year, today.year + 1) if not cal.covers(y)]
