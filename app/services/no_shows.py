"""Missed visits: marking them, and the pause from online booking the hall's rule makes of them."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.domain.actors import Actor
from app.domain.appointments import BOOKED, HallRules
from app.domain.cases import CHINA, china_date
from app.domain.errors import NotPermitted
from app.services.appointment_records import BOOKINGS, booking_from_doc, booking_to_doc
from app.services.hall_admin import counted_no_shows
from storage.documents import DocumentStore, VersionConflict

NO_SHOW_AFTER = timedelta(minutes=90)  # the half-hour itself, and an hour's grace


async def mark_no_shows(store: DocumentStore, now: datetime) -> int:
    """Bookings whose half-hour ended an hour ago without a check-in count as missed."""
    today = china_date(now)
    missed = 0
    for doc in await store.find(BOOKINGS, {"state": BOOKED, "day": {"$lte": today.isoformat()}}):
        booking = booking_from_doc(doc)
        if booking.starts + NO_SHOW_AFTER > now:
            continue
        booking.miss(now)
        try:
            async with store.transaction() as tx:
                await tx.replace(
                    BOOKINGS, booking_to_doc(booking), expected_version=doc["_version"]
                )
        except VersionConflict:
            continue  # checked in or cancelled meanwhile: the next sweep decides again
        missed += 1
    return missed


async def check_not_restricted(
    store: DocumentStore, actor: Actor, department: str, rules: HallRules, now: datetime
) -> None:
    """Refuse online booking while the person's missed visits at this hall pause it."""
    where = {"person": actor.id, "state": "no_show", "department": department}
    missed = [booking_from_doc(d).starts for d in await store.find(BOOKINGS, where)]
    until = rules.restricted_until(await counted_no_shows(store, actor.id, missed), now)
    if until is not None:
        raise NotPermitted(
            f"您近 {rules.no_show_window.days} 天内在本大厅有 {rules.no_show_limit} 次预约"
            f"未到，{until.astimezone(CHINA):%Y-%m-%d} 前暂不能在线预约该部门的事项；"
            "如有特殊情况请联系大厅工作人员"
        )
