"""Mapping between bookings and their stored documents."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from app.domain.appointments import Booking

BOOKINGS = "bookings"
LEDGERS = "slot_ledgers"  # one per department, day and slot: how many places are taken
LOCKS = "booking_locks"  # one per person, matter and day: at most one booking
COUNTERS = "hall_counters"  # one per department and day: the next queue number


def ledger_id(department: str, day: date, slot: time) -> str:
    return f"{department}:{day.isoformat()}:{slot:%H:%M}"


def lock_id(person: str, matter_code: str, day: date) -> str:
    return f"{person}:{matter_code}:{day.isoformat()}"


def booking_to_doc(b: Booking) -> dict[str, Any]:
    # "short" only where there is one: its unique index must never see two absent codes.
    short = {"short": b.short} if b.short else {}
    return short | {
        "_id": b.id,
        "person": b.person,
        "matter_code": b.matter_code,
        "department": b.department,
        "day": b.day.isoformat(),
        "slot": f"{b.slot:%H:%M}",
        "created_at": b.created_at.isoformat(),
        "case_number": b.case_number,
        "state": b.state,
        "queue_number": b.queue_number,
        "history": list(b.history),
        "moved_to": b.moved_to,
        "moved_from": b.moved_from,
    }


def booking_from_doc(doc: dict[str, Any]) -> Booking:
    return Booking(
        id=doc["_id"],
        person=doc["person"],
        matter_code=doc["matter_code"],
        department=doc["department"],
        day=date.fromisoformat(doc["day"]),
        slot=time.fromisoformat(doc["slot"]),
        created_at=datetime.fromisoformat(doc["created_at"]),
        case_number=doc["case_number"],
        state=doc["state"],
        queue_number=doc["queue_number"],
        history=list(doc["history"]),
        moved_to=doc.get("moved_to"),
        moved_from=doc.get("moved_from"),
        short=doc.get("short"),
    )
