"""Hall appointments on the phone: the applicant's check-in QR code, and the hall's scan page."""

from __future__ import annotations

from datetime import date, time

import aiohttp_jinja2
import segno
from aiohttp import web
from markupsafe import Markup

from app import keys
from app.api.errors import STATUS
from app.domain.actors import Role
from app.domain.appointments import BOOKED, STATE_ZH
from app.domain.errors import DomainError
from app.services.catalog import get_matter, list_matters
from app.web.session import checked_form, csrf_token, message, signed_in
from app.web.staff import STAFF, staff_actor

routes = web.RouteTableDef()


@routes.get("/h5/book")
async def book_page(request: web.Request) -> web.Response:
    """Pick a matter, then one of the next free half-hours."""
    actor = signed_in(request)
    store, hall = request.config_dict[keys.DOCUMENTS], request.config_dict[keys.APPOINTMENTS]
    target = "enterprise" if actor.role is Role.AGENT else "citizen"
    code = request.query.get("matter", "")
    context: dict[str, object] = {
        "csrf": csrf_token(request),
        "matter": None,
        "offers": [],
        "case": request.query.get("case", ""),
    }
    if code:
        try:
            context["matter"] = await get_matter(store, code)
            context["offers"] = await hall.offer(code, count=12)
        except DomainError as exc:
            return message(request, exc.message, status=STATUS.get(type(exc), 400), back="/h5/book")
    else:
        context["matters"] = [m for m in await list_matters(store) if target in m.targets]
    context["mine"] = await hall.bookings_of(actor)
    return aiohttp_jinja2.render_template("h5_book.html", request, context)


@routes.post("/h5/book")
async def book(request: web.Request) -> web.Response:
    actor = signed_in(request)
    form = await checked_form(request)
    back = f"/h5/book?matter={form.get('matter', '')}"
    try:
        day = date.fromisoformat(form.get("day", ""))
        start = time.fromisoformat(form.get("slot", ""))
    except ValueError:
        return message(request, "请从列表中选择预约时段", status=400, back=back)
    try:
        booking = await request.config_dict[keys.APPOINTMENTS].book(
            actor, form.get("matter", ""), day, start, case_number=form.get("case") or None
        )
    except DomainError as exc:
        return message(request, exc.message, status=STATUS.get(type(exc), 400), back=back)
    raise web.HTTPSeeOther(f"/h5/bookings/{booking.id}")


@routes.get("/h5/bookings/{booking}")
async def booking_page(request: web.Request) -> web.Response:
    actor = signed_in(request)
    hall = request.config_dict[keys.APPOINTMENTS]
    try:
        booking = await hall.booking_of(actor, request.match_info["booking"])
    except DomainError as exc:
        return message(request, exc.message, status=STATUS.get(type(exc), 400))
    matter = await get_matter(request.config_dict[keys.DOCUMENTS], booking.matter_code)
    code = hall.check_in_code(booking)
    svg = segno.make(code, error="m").svg_inline(scale=5, border=2, omitsize=True)
    context = {
        "booking": booking,
        "state": STATE_ZH[booking.state],
        "matter": matter,
        "qr": Markup(svg) if booking.state == BOOKED else None,  # noqa: S704 - segno's own markup
        "code": code,
        "csrf": csrf_token(request),
    }
    return aiohttp_jinja2.render_template("h5_booking.html", request, context)


@routes.post("/h5/bookings/{booking}/cancel")
async def cancel(request: web.Request) -> web.Response:
    actor = signed_in(request)
    await checked_form(request)
    back = f"/h5/bookings/{request.match_info['booking']}"
    try:
        await request.config_dict[keys.APPOINTMENTS].cancel(actor, request.match_info["booking"])
    except DomainError as exc:
        return message(request, exc.message, status=STATUS.get(type(exc), 400), back=back)
    raise web.HTTPSeeOther(back)


@routes.get("/staff/checkin")
async def scan_page(request: web.Request) -> web.Response:
    staff_actor(request)
    context = {"csrf": csrf_token(request, STAFF), "result": None}
    return aiohttp_jinja2.render_template("staff_checkin.html", request, context)


@routes.post("/staff/checkin")
async def scan(request: web.Request) -> web.Response:
    """The clerk scanned (or typed) an applicant's code: checked in and numbered, once."""
    clerk = staff_actor(request)
    form = await checked_form(request, STAFF)
    try:
        booking = await request.config_dict[keys.APPOINTMENTS].check_in(form.get("code", ""), clerk)
        result = {
            "ok": True,
            "text": f"签到成功，排队号 {booking.queue_number}",
            "case": booking.case_number,
        }
    except DomainError as exc:
        result = {"ok": False, "text": exc.message}
    context = {"csrf": csrf_token(request, STAFF), "result": result}
    return aiohttp_jinja2.render_template("staff_checkin.html", request, context)
