"""Administering the halls: each department's rules (places per half-hour, the cut-off, closed
days, the no-show rule), who is paused for missed visits, and lifting a pause; and where each
hall is, for its visitors.

Only administrators change anything, and every change is audited in its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from app.domain.actors import Actor, Role
from app.domain.appointments import Hall, HallRules
from app.domain.cases import china_date
from app.domain.errors import NotFoundError, NotPermitted, ValidationFailed
from app.services.accounts import USERS
from app.services.appointment_records import BOOKINGS, booking_from_doc
from app.services.audit import AUDIT, audit_record
from app.services.catalog import check_department
from app.services.counters import counter_of
from storage.documents import DocumentStore

HALL_RULES = "hall_rules"  # per department: what an administrator set; the rest is default
MAX_NO_SHOW_DAYS = 365  # the longest a department may count missed visits or pause booking
NOT_ADMIN = "只有管理员可以调整大厅预约规则"


class Restriction(NamedTuple):
    person: str  # the applicant's account
    department: str  # whose hall they may not book online
    until: datetime


async def read_rules(store: DocumentStore, department: str) -> HallRules:
    """A department's hall rules: the administrator's settings over the defaults."""
    doc = await store.get(HALL_RULES, department) or {}
    rules = HallRules()
    return HallRules(
        capacity=int(doc.get("capacity", rules.capacity)),
        cutoff=timedelta(hours=float(doc.get("cutoff_hours", rules.cutoff.total_seconds() / 3600))),
        no_show_limit=int(doc.get("no_show_limit", rules.no_show_limit)),
        no_show_window=timedelta(days=int(doc.get("no_show_days", rules.no_show_window.days))),
        restriction=timedelta(days=int(doc.get("restrict_days", rules.restriction.days))),
        closures=frozenset(date.fromisoformat(d) for d in doc.get("closures", [])),
        slot_capacity=tuple(
            sorted((time.fromisoformat(k), int(v)) for k, v in doc.get("slots", {}).items())
        ),
    )


async def read_hall(
    store: DocumentStore, department: str, department_name: str, rules: HallRules | None = None
) -> Hall:
    """Where a department receives visitors and when: its counter (the same window that
    receives originals by courier, set with ``buchumen counter set``) and the opening hours
    (from ``rules``, when the caller has read them already)."""
    hours = (rules or await read_rules(store, department)).hours_zh()
    counter = await counter_of(store, department)
    if counter is None:  # not recorded yet: the window's name, and no address to invent
        return Hall(f"{department_name}办事窗口", None, hours)
    return Hall(counter.name, counter.address().full(), hours)


async def counted_no_shows(
    store: DocumentStore, person: str, starts: list[datetime]
) -> list[datetime]:
    """The missed visits that still count: those after an administrator's last lift."""
    account = await store.get(USERS, person) or {}
    lifted = account.get("booking_restriction_lifted_at")
    since = datetime.fromisoformat(lifted) if lifted else None
    return [t for t in starts if since is None or t > since]


class HallAdministration:
    def __init__(self, store: DocumentStore, *, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    async def set_rules(
        self,
        actor: Actor,
        department: str,
        *,
        capacity: int | None = None,
        cutoff_hours: float | None = None,
        close: list[date] = (),  # type: ignore[assignment]
        reopen: list[date] = (),  # type: ignore[assignment]
        slots: dict[time, int | None] | None = None,
        no_show_limit: int | None = None,
        no_show_days: int | None = None,
        restrict_days: int | None = None,
    ) -> HallRules:
        """An administrator's change to a hall: capacity per slot, cut-off, closed days, and
        how many missed visits (``no_show_limit`` within ``no_show_days``) pause online booking
        at this hall for ``restrict_days``. What is not given stays as it was.

        ``slots`` gives single half-hours their own number of places (0 closes one; None
        returns it to the hall's capacity).
        """
        if actor.role is not Role.ADMIN:
            raise NotPermitted(NOT_ADMIN)
        await check_department(self._store, department)
        if capacity is not None and not 1 <= capacity <= 500:
            raise ValidationFailed("每个时段可预约人数应在 1 到 500 之间")
        if cutoff_hours is not None and not 0 <= cutoff_hours <= 72:
            raise ValidationFailed("取消截止时间应在 0 到 72 小时之间")
        if no_show_limit is not None and not 1 <= no_show_limit <= 20:
            raise ValidationFailed("未到次数上限应在 1 到 20 之间")
        for days in (no_show_days, restrict_days):
            if days is not None and not 1 <= days <= MAX_NO_SHOW_DAYS:
                raise ValidationFailed(
                    f"统计未到的天数和暂停预约的天数应在 1 到 {MAX_NO_SHOW_DAYS} 之间"
                )
        opening = HallRules().slots()
        for start, places in (slots or {}).items():
            if start not in opening:
                raise ValidationFailed(f"{start:%H:%M} 不是大厅的半小时时段起点")
            if places is not None and not 0 <= places <= 500:
                raise ValidationFailed("单个时段可预约人数应在 0 到 500 之间")
        doc = await self._store.get(HALL_RULES, department)
        closures = set(doc.get("closures", []) if doc else []) | {d.isoformat() for d in close}
        closures -= {d.isoformat() for d in reopen}
        new = {**(doc or {"_id": department}), "closures": sorted(closures)}
        changes: dict[str, Any] = {
            "capacity": capacity, "cutoff_hours": cutoff_hours, "no_show_limit": no_show_limit,
            "no_show_days": no_show_days, "restrict_days": restrict_days,
        }  # fmt: skip
        changes = {name: value for name, value in changes.items() if value is not None}
        new |= changes
        if slots:
            own = dict(new.get("slots", {}))
            for start, places in slots.items():
                if places is None:
                    own.pop(f"{start:%H:%M}", None)
                else:
                    own[f"{start:%H:%M}"] = places
            new["slots"] = own
            changes["slots"] = {f"{t:%H:%M}": n for t, n in slots.items()}
        if close or reopen:
            changes["close"] = sorted(d.isoformat() for d in close)
            changes["reopen"] = sorted(d.isoformat() for d in reopen)
        record = audit_record(f"hall:{department}", "hall.rules", actor.id, self._clock(), changes)
        async with self._store.transaction() as tx:
            if doc is None:
                await tx.insert(HALL_RULES, new)
            else:
                await tx.replace(HALL_RULES, new, expected_version=doc["_version"])
            await tx.insert(AUDIT, record)
        return await read_rules(self._store, department)

    async def restrictions(self) -> list[Restriction]:
        """Who may not book online at which department's hall because of no-shows, and until
        when (for administrators)."""
        now = self._clock()
        missed: dict[tuple[str, str], list[datetime]] = {}
        since = china_date(now - timedelta(days=MAX_NO_SHOW_DAYS)).isoformat()
        for doc in await self._store.find(BOOKINGS, {"state": "no_show", "day": {"$gte": since}}):
            missed.setdefault((doc["person"], doc["department"]), []).append(
                booking_from_doc(doc).starts
            )
        found = []
        rules_of: dict[str, HallRules] = {}  # each department's rules read once, not per person
        for (person, department), starts in sorted(missed.items()):
            if department not in rules_of:
                rules_of[department] = await read_rules(self._store, department)
            rules = rules_of[department]
            counted = await counted_no_shows(self._store, person, starts)
            until = rules.restricted_until(counted, now)
            if until is not None:
                found.append(Restriction(person, department, until))
        return found

    async def lift_restriction(self, actor: Actor, username: str) -> None:
        """An administrator lets a person book again; earlier no-shows stop counting."""
        if actor.role is not Role.ADMIN:
            raise NotPermitted(NOT_ADMIN)
        account = await self._store.get(USERS, username)
        if account is None:
            raise NotFoundError(f"没有名为 {username} 的账号")
        now = self._clock()
        lifted = {**account, "booking_restriction_lifted_at": now.isoformat()}
        async with self._store.transaction() as tx:
            await tx.replace(USERS, lifted, expected_version=account["_version"])
            await tx.insert(AUDIT, audit_record(f"user:{username}", "hall.lift", actor.id, now))
