"""Hall appointments on the applicant's phone: book, the check-in QR code, reschedule, cancel."""

from __future__ import annotations

from datetime import date, time

import aiohttp_jinja2
import segno
from aiohttp import web
from markupsafe import Markup

from app import keys
from app.domain.actors import Actor
from app.domain.appointments import BOOKED, STATE_ZH, span_zh, what_to_bring
from app.domain.cases import Case
from app.domain.errors import DomainError
from app.domain.short_codes import spaced
from app.edge.errors import back, back_to
from app.services.appointments import SlotFull
from app.services.catalog import open_to
from app.web.session import checked_form, csrf_token, message, signed_in

routes = web.RouteTableDef()


def pick_day(days: list[tuple[date, int]], wanted: str) -> date | None:
    """The day asked for if it has places, else the first that has."""
    open_days = [day for day, free in days if free]
    try:
        asked: date | None = date.fromisoformat(wanted)
    except ValueError:
        asked = None
    return asked if asked in open_days else next(iter(open_days), None)


async def tied_case(request: web.Request, actor: Actor, number: str | None) -> Case | None:
    """The case a visit is for, while it exists for the applicant (else everything is brought)."""
    if not number:
        return None
    try:
        return await request.config_dict[keys.CASES].get(actor, number)
    except DomainError:
        return None


@routes.get("/h5/book")
@back("/h5/book")
async def book_page(request: web.Request) -> web.Response:
    """Pick a matter, then a day of the hall's next working days, then a free half-hour."""
    actor = await signed_in(request)
    catalog, hall = request.config_dict[keys.CATALOG], request.config_dict[keys.APPOINTMENTS]
    code = request.query.get("matter", "")
    context: dict[str, object] = {
        "csrf": csrf_token(request),
        "matter": None,
        "case": request.query.get("case", ""),
    }
    if code:
        matter = await catalog.get(code)
        days = await hall.days(code)
        day = pick_day(days, request.query.get("day", ""))
        case = await tied_case(request, actor, request.query.get("case"))
        context |= {
            "matter": matter,
            "days": days,
            "day": day,
            "offers": await hall.offer(code, None, day=day) if day else [],
            "hall": await hall.hall(matter),
            "bring": what_to_bring(matter, case)[0],
        }
    else:
        context["matters"] = open_to(actor, await catalog.matters())
    context["mine"] = await hall.bookings_of(actor)
    return aiohttp_jinja2.render_template("h5_book.html", request, context)


@routes.post("/h5/book")
async def book(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    form = await checked_form(request)
    matter_page = f"/h5/book?matter={form.get('matter', '')}"
    back_to(request, matter_page)
    try:
        day = date.fromisoformat(form.get("day", ""))
        start = time.fromisoformat(form.get("slot", ""))
    except ValueError:
        return message(request, "请从列表中选择预约时段", status=400, back=matter_page)
    booking = await request.config_dict[keys.APPOINTMENTS].book(
        actor, form.get("matter", ""), day, start, case_number=form.get("case") or None
    )
    raise web.HTTPSeeOther(f"/h5/bookings/{booking.id}")


@routes.get("/h5/bookings/{booking}")
async def booking_page(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    hall = request.config_dict[keys.APPOINTMENTS]
    booking = await hall.booking_of(actor, request.match_info["booking"])
    matter = await request.config_dict[keys.CATALOG].get(booking.matter_code)
    bring, held = what_to_bring(matter, await tied_case(request, actor, booking.case_number))
    code = hall.check_in_code(booking)
    svg = segno.make(code, error="m").svg_inline(scale=5, border=2, omitsize=True)
    rules = await hall.rules(booking.department)
    context = {
        "booking": booking,
        "state": STATE_ZH[booking.state],
        "matter": matter,
        "qr": Markup(svg) if booking.state == BOOKED else None,  # noqa: S704 - segno's own markup
        "code": spaced(booking.short) if booking.short else code,  # what a person types
        "bring": bring,
        "held": held,
        "cutoff": span_zh(rules.cutoff),
        "rules": rules,
        "hall": await hall.hall(matter),
        "csrf": csrf_token(request),
    }
    return aiohttp_jinja2.render_template("h5_booking.html", request, context)


@routes.post("/h5/bookings/{booking}/cancel")
@back("/h5/bookings/{booking}")
async def cancel(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    await checked_form(request)
    await request.config_dict[keys.APPOINTMENTS].cancel(actor, request.match_info["booking"])
    raise web.HTTPSeeOther(f"/h5/bookings/{request.match_info['booking']}")


@routes.get("/h5/bookings/{booking}/reschedule")
@back("/h5/bookings/{booking}")
async def reschedule_page(request: web.Request) -> web.Response:
    """The free half-hours to move a booking to; after the cut-off, why not."""
    actor = await signed_in(request)
    return await _reschedule_page(request, actor, error=None, suggested=None)


@routes.post("/h5/bookings/{booking}/reschedule")
@back("/h5/bookings/{booking}")
async def reschedule(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    form = await checked_form(request)
    booking_id = request.match_info["booking"]
    try:
        day = date.fromisoformat(form.get("day", ""))
        start = time.fromisoformat(form.get("slot", ""))
    except ValueError:
        return message(request, "请从列表中选择新的时段", status=400,
                       back=f"/h5/bookings/{booking_id}/reschedule")  # fmt: skip
    hall = request.config_dict[keys.APPOINTMENTS]
    try:
        moved = await hall.reschedule(actor, booking_id, day, start)
    except SlotFull as exc:  # told, and offered the nearest free slot first
        return await _reschedule_page(request, actor, error=exc.message, suggested=exc.next_free)
    raise web.HTTPSeeOther(f"/h5/bookings/{moved.id}")


async def _reschedule_page(
    request: web.Request,
    actor: Actor,
    *,
    error: str | None,
    suggested: tuple[date, time] | None,
) -> web.Response:
    hall = request.config_dict[keys.APPOINTMENTS]
    booking = await hall.movable(actor, request.match_info["booking"])
    matter = await request.config_dict[keys.CATALOG].get(booking.matter_code)
    days = await hall.days(booking.matter_code)
    asked = suggested[0].isoformat() if suggested else request.query.get("day", "")
    day = pick_day(days, asked)
    skip = (booking.day, booking.slot)
    offers = await hall.offer(booking.matter_code, None, skip=skip, day=day) if day else []
    context = {
        "booking": booking,
        "matter": matter,
        "days": days,
        "day": day,
        "offers": [o for o in offers if o[:2] != suggested],
        "suggested": suggested,
        "error": error,
        "cutoff": span_zh((await hall.rules(booking.department)).cutoff),
        "hall": await hall.hall(matter),
        "csrf": csrf_token(request),
    }
    status = 409 if error else 200
    return aiohttp_jinja2.render_template("h5_reschedule.html", request, context, status=status)
