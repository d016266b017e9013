"""The hall clerk's phone page: scan a visitor's code, see their case, call numbers to the window.

Check-in shows the tied case and its pre-checked materials (the clerk's own department only:
the case is read as that clerk). Calling and finishing redirect back, so reloading the page
never calls another number.
"""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.domain.actors import Actor
from app.domain.appointments import STATE_ZH, Booking
from app.domain.errors import DomainError
from app.edge.errors import on_refusal, status_of
from app.edge.views import case_views
from app.web.session import checked_form, csrf_token
from app.web.staff import STAFF, staff_actor

routes = web.RouteTableDef()
PAGE = "/staff/checkin"


@routes.get(PAGE)
async def desk(request: web.Request) -> web.Response:
    clerk = staff_actor(request)
    result = None
    if number := request.query.get("called", ""):
        result = {"ok": True, "text": f"已叫 {number} 号，已通过微信通知申请人"}
    elif request.query.get("none"):
        result = {"ok": True, "text": "目前没有等候的申请人"}
    return await _render(request, clerk, result)


async def _refused(request: web.Request, exc: DomainError) -> web.Response:
    result = {"ok": False, "text": exc.message}
    return await _render(request, staff_actor(request), result, status=status_of(exc))


@routes.post(PAGE)
@on_refusal(_refused)
async def scan(request: web.Request) -> web.Response:
    """The clerk scanned (or typed) an applicant's code: checked in and numbered, once."""
    clerk = staff_actor(request)
    form = await checked_form(request, STAFF)
    booking = await request.config_dict[keys.APPOINTMENTS].check_in(form.get("code", ""), clerk)
    result = {
        "ok": True,
        "text": f"签到成功，排队号 {booking.queue_number}",
        "case": booking.case_number,
    }
    return await _render(request, clerk, result, case=await _case(request, clerk, booking))


@routes.post(PAGE + "/next")
@on_refusal(_refused)
async def call_next(request: web.Request) -> web.Response:
    clerk = staff_actor(request)
    await checked_form(request, STAFF)
    called = await request.config_dict[keys.APPOINTMENTS].window.call_next(clerk)
    raise web.HTTPSeeOther(f"{PAGE}?called={called.queue_number}" if called else f"{PAGE}?none=1")


@routes.post(PAGE + "/{booking}/call")
@on_refusal(_refused)
async def call(request: web.Request) -> web.Response:
    clerk = staff_actor(request)
    await checked_form(request, STAFF)
    window = request.config_dict[keys.APPOINTMENTS].window
    called = await window.call(clerk, request.match_info["booking"])
    raise web.HTTPSeeOther(f"{PAGE}?called={called.queue_number}")


@routes.post(PAGE + "/{booking}/serve")
@on_refusal(_refused)
async def serve(request: web.Request) -> web.Response:
    clerk = staff_actor(request)
    await checked_form(request, STAFF)
    await request.config_dict[keys.APPOINTMENTS].window.serve(clerk, request.match_info["booking"])
    raise web.HTTPSeeOther(PAGE)


async def _case(request: web.Request, clerk: Actor, booking: Booking) -> dict[str, Any] | None:
    """The visitor's case as the clerk may see it (the look is audited), or None."""
    if booking.case_number is None:
        return None
    try:
        case = await request.config_dict[keys.CASES].view(
            clerk, booking.case_number, purpose="checkin"
        )
    except DomainError:
        return None  # not this clerk's to see: the check-in stands, the case stays hidden
    [view] = await case_views(request, [case])
    return view


async def _render(
    request: web.Request,
    clerk: Actor,
    result: dict[str, Any] | None,
    *,
    case: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    queue: list[dict[str, Any]] | None = None
    if clerk.department is not None:  # a department's window; supervisors only check in
        matters = await request.config_dict[keys.CATALOG].matters(department=clerk.department)
        names = {m.code: m.name for m in matters}
        queue = [
            {"booking": b, "state": STATE_ZH[b.state], "matter": names.get(b.matter_code, "")}
            for b in await request.config_dict[keys.APPOINTMENTS].window.queue(clerk)
        ]
    context = {
        "csrf": csrf_token(request, STAFF),
        "result": result,
        "case": case,
        "queue": [q for q in queue or [] if q["booking"].state != "served"],
        "served": sum(q["booking"].state == "served" for q in queue or []),
        "has_queue": queue is not None,
    }
    return aiohttp_jinja2.render_template("staff_checkin.html", request, context, status=status)
