"""The applicant's courier pages: the pickup address and time, the hand-over code, custody."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from app import keys
from app.domain.actors import Actor
from app.domain.case_states import State
from app.domain.cases import Case
from app.domain.custody import Step, due_step
from app.domain.errors import DomainError
from app.domain.shipments import PICKUP, PROVINCES, STATUS_ZH, LegStatus, MailingAddress
from app.edge.errors import back
from app.web.session import checked_form, csrf_token, message, signed_in

routes = web.RouteTableDef()


@routes.get("/h5/cases/{number}/pickup")
async def pickup_page(request: web.Request) -> web.Response:
    """Where and when the courier collects the originals; filled in again from last time."""
    actor = await signed_in(request)
    number = request.match_info["number"]
    shipments = request.config_dict[keys.SHIPMENTS]
    case = await request.config_dict[keys.CASES].get(actor, number)
    legs = await shipments.legs_of(actor, number)
    if not case.is_owner(actor):
        return message(request, "未找到该办件，请核对办件号", status=404)
    leg = legs.get(PICKUP)
    address = leg.address if leg else await shipments.last_address(actor)
    context = {
        "case": case,
        "leg": leg,
        "status": STATUS_ZH[leg.status] if leg else "",
        "address": address.as_dict() if address else {},
        "provinces": PROVINCES,
        "windows": [(w.key, w.label()) for w in shipments.windows()],
        "chosen": leg.window.key if leg else "",
        "open": case.state is State.AWAITING_PICKUP and shipments.available,
        "available": shipments.available,
        "cancellable": leg is not None and leg.cancellable,
        "csrf": csrf_token(request),
        "error": "",
    }
    return aiohttp_jinja2.render_template("h5_pickup.html", request, context)


@routes.post("/h5/cases/{number}/pickup")
@back("/h5/cases/{number}/pickup")
async def request_pickup(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    number = request.match_info["number"]
    form = await checked_form(request)
    address = MailingAddress.parse(form)
    await request.config_dict[keys.SHIPMENTS].request_pickup(
        actor, number, address, form.get("window", "")
    )
    raise web.HTTPSeeOther(f"/h5/cases/{number}")


@routes.post("/h5/cases/{number}/pickup/cancel")
@back("/h5/cases/{number}/pickup")
async def cancel_pickup(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    number = request.match_info["number"]
    await checked_form(request)
    await request.config_dict[keys.SHIPMENTS].cancel_pickup(actor, number)
    raise web.HTTPSeeOther(f"/h5/cases/{number}")


async def courier_view(request: web.Request, case: Case, actor: Actor) -> dict[str, Any] | None:
    """The case page's courier card: the leg, the code to show, and the chain of custody."""
    if not case.terms.originals_required:
        return None
    legs = await request.config_dict[keys.SHIPMENTS].legs_of(actor, case.number)
    custody = request.config_dict[keys.CUSTODY]
    qr = token = None
    pickup = legs.get(PICKUP)
    if (
        due_step(case) is Step.PICKUP
        and pickup is not None
        and pickup.status is LegStatus.BOOKED
        and case.is_owner(actor)
    ):
        try:
            shown = await custody.show_code(actor, case.number, Step.PICKUP)
        except DomainError:
            shown = None  # the booking changed meanwhile: nothing to show
        if shown is not None:
            qr = Markup(shown.issued.qr_svg(scale=5))  # noqa: S704 - segno's own SVG markup
            token = shown.typed
    chain = await custody.chain(actor, case.number)
    if not (legs or chain or case.state is State.AWAITING_PICKUP):
        return None  # before approval, or the originals came another way
    return {
        "legs": {
            kind: {
                "status": STATUS_ZH[leg.status],
                "waybill": leg.waybill,
                "window": leg.window.label(),
                "address": leg.address.full() if case.is_owner(actor) else leg.address.masked(),
                "trouble": leg.trouble,
            }
            for kind, leg in legs.items()
        },
        "awaiting": case.state is State.AWAITING_PICKUP,
        "due": step.value if (step := due_step(case)) else None,
        "qr": qr,
        "token": token,
        "chain": chain,
    }
