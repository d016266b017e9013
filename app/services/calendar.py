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
CONFIRMED = "calendar_years"  # years whose State Council schedule an administrator entered


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
            confirmed = [int(d["_id"]) for d in await self._store.find(CONFIRMED)]
            self._cached = WorkCalendar(
                overrides=overrides, statutory=self._statutory, confirmed_years=confirmed
            )
            self._loaded_at = time.monotonic()
        return self._cached

    async def overrides(self, year: int | None = None) -> list[dict[str, Any]]:
        where = {"year": year} if year is not None else None
        return await self._store.find(OVERRIDES, where, sort=[("_id", 1)])

    async def set_override(
        self, actor: Actor, day: date, *, workday: bool, note: str, now: datetime
    ) -> dict[str, Any]:
        """Record whether ``day`` is a working day, e.g. once the State Council publishes."""
        _check_admin(actor, note)
        doc: dict[str, Any] = {
            "_id": day.isoformat(),
            "year": day.year,
            "workday": workday,
            "note": note.strip(),
            "by": actor.id,
            "at": now.isoformat(),
        }
        detail = {"workday": workday, "note": doc["note"]}
        return await self._put(OVERRIDES, doc, "calendar.override", detail, now)

    async def confirm_year(
        self, actor: Actor, year: int, *, note: str, now: datetime
    ) -> dict[str, Any]:
        """Mark ``year``'s schedule as entered in full: its days off are the overrides only."""
        _check_admin(actor, note)
        if not await self._store.find(OVERRIDES, {"year": year}, limit=1):
            raise ValidationFailed(
                f"{year} 年还没有录入任何一天：请先按国务院办公厅的放假安排"
                "逐日录入放假和调休上班的日期，再确认"
            )
        doc = {"_id": str(year), "note": note.strip(), "by": actor.id, "at": now.isoformat()}
        return await self._put(CONFIRMED, doc, "calendar.confirm", {"note": doc["note"]}, now)

    async def _put(
        self,
        collection: str,
        doc: dict[str, Any],
        action: str,
        detail: dict[str, Any],
        now: datetime,
    ) -> dict[str, Any]:
        """Write ``doc`` (new or replacing) with its audit record, and drop the cached calendar."""
        async with self._store.transaction() as tx:
            current = await tx.get(collection, doc["_id"])
            if current is None:
                saved = await tx.insert(collection, doc)
            else:
                saved = await tx.replace(collection, doc, expected_version=current["_version"])
            record = audit_record(f"calendar:{doc['_id']}", action, doc["by"], now, detail)
            await tx.insert(AUDIT, record)
        self._cached = None
        return saved

    async def years(self, today: date) -> list[dict[str, Any]]:
        """This year and next: each one's source of days off (statutory, confirmed, provisional)."""
        cal = await self.calendar()
        confirmed = {d["_id"]: d for d in await self._store.find(CONFIRMED)}
        out: list[dict[str, Any]] = []
        for year in (today.year, today.year + 1):
            entry: dict[str, Any] = {"year": year, "status": "statutory"}
            if str(year) in confirmed:
                doc = confirmed[str(year)]
                entry.update(status="confirmed", note=doc["note"], by=doc["by"], at=doc["at"])
            elif not cal.covers(year):
                entry["status"] = "provisional"
            out.append(entry)
        return out

    async def uncovered_years(self, today: date) -> list[int]:
        """This year and next, where provisional: days off are the law's festivals only."""
        cal = await self.calendar()
        return [y for y in (today.year, today.year + 1) if not cal.covers(y)]


def _check_admin(actor: Actor, note: str) -> None:
    if actor.role is not Role.ADMIN:
        raise NotPermitted("只有管理员可以调整工作日历")
    if not note.strip():
        raise ValidationFailed("请说明调整依据，例如国务院办公厅放假安排通知的文号")
