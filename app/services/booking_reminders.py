"""The chat reminder on the working day before a hall visit, one per booking: when, where
(with the map), and until when it can still be moved."""

from __future__ import annotations

from datetime import datetime

from app.domain.appointments import BOOKED, Hall, span_zh
from app.domain.cases import china_date
from app.domain.catalog import Matter
from app.services.appointment_records import BOOKINGS, booking_from_doc
from app.services.booking_confirmations import map_links
from app.services.calendar import CalendarService
from app.services.catalog import get_matter
from app.services.hall_admin import read_hall, read_rules
from app.services.notify import notify_once
from storage.documents import DocumentStore


async def remind_tomorrow(store: DocumentStore, calendars: CalendarService, now: datetime) -> int:
    """Queue the reminders for the next working day's visits; how many were new."""
    calendar = await calendars.calendar()
    next_day = calendar.next_workday(china_date(now))
    queued = 0
    # A busy hall has hundreds of visits a day for a few matters: read each one's once.
    places: dict[tuple[str, str], tuple[Matter, str, Hall]] = {}
    for doc in await store.find(BOOKINGS, {"day": next_day.isoformat(), "state": BOOKED}):
        booking = booking_from_doc(doc)
        where = (booking.department, booking.matter_code)
        if where not in places:
            matter = await get_matter(store, booking.matter_code)
            rules = await read_rules(store, booking.department)
            hall = await read_hall(store, booking.department, matter.department_name, rules)
            places[where] = matter, span_zh(rules.cutoff), hall
        matter, cutoff, hall = places[where]
        text = (
            f"【预约提醒】您预约了 {booking.day.month}月{booking.day.day}日 "
            f"{booking.slot:%H:%M} 到{hall.window}办理“{matter.name}”。\n地点：{hall.place}\n"
            f"请按时到达并带齐材料；如不能前来，请在预约时间 {cutoff}前改约或取消。"
        )
        queued += await notify_once(
            store,
            key=f"remind:{booking.id}",  # a rerun of the sweep queues nothing new
            applicant_id=booking.person,
            text=text,
            now=now,
            path=f"/h5/bookings/{booking.id}",
            link_label="预约二维码",
            links=map_links(hall),
        )
    return queued
