"""The hall's figures for the dashboard: places, bookings, use, check-ins, no-shows and waits."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.domain.appointments import CAME, GONE, Booking
from app.domain.cases import china_date
from app.services.appointment_records import BOOKINGS, booking_from_doc
from app.services.calendar import CalendarService
from app.services.hall_admin import read_rules
from storage.documents import DocumentStore


async def hall_figures(
    store: DocumentStore, calendars: CalendarService, now: datetime, days: int
) -> list[dict[str, object]]:
    """Per department over the last ``days`` days.

    Use is bookings kept (not cancelled or moved) over places opened. Arrival is minutes
    from the slot's start to the check-in (negative: early). Wait is minutes from the later
    of check-in and slot start to the clerk's call (``Booking.wait_minutes``), averaged over
    the visitors called.
    """
    today = china_date(now)
    since = today - timedelta(days=days - 1)
    calendar = await calendars.calendar()
    where = {"day": {"$gte": since.isoformat(), "$lte": today.isoformat()}}
    by_department: dict[str, list[Booking]] = {}
    for doc in await store.find(BOOKINGS, where):
        booking = booking_from_doc(doc)
        if booking.state not in GONE:
            by_department.setdefault(booking.department, []).append(booking)
    figures = []
    for department, bookings in sorted(by_department.items()):
        rules = await read_rules(store, department)
        open_days = sum(rules.open_on(since + timedelta(days=n), calendar) for n in range(days))
        places = open_days * sum(rules.capacity_at(s) for s in rules.slots())
        came = [b for b in bookings if b.state in CAME]
        arrivals = [
            (at - b.starts).total_seconds() / 60
            for b in came
            if (at := b.at("checked_in")) is not None
        ]
        waits = [w for b in came if (w := b.wait_minutes()) is not None]
        figures.append(
            {
                "department": department,
                "places": places,
                "booked": len(bookings),
                "use": round(100 * len(bookings) / places, 1) if places else 0.0,
                "checked_in": len(came),
                "no_show": sum(b.state == "no_show" for b in bookings),
                "arrival": round(sum(arrivals) / len(arrivals)) if arrivals else None,
                "called": len(waits),
                "wait": round(sum(waits) / len(waits), 1) if waits else None,
            }
        )
    return figures
