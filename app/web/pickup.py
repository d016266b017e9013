"""The applicant's courier pages: the pickup address and time, the hand-over code, custody.

The address form checks on the server, not in the browser (``novalidate``): every problem is
named at once in Chinese beside its field, and what was typed stays.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from app import keys
from app.domain.actors import Actor
from app.domain.case_states import State
from app.domain.cases import Case
from app.domain.custody import Step, due_step
from app.domain.errors import DomainError, NotFoundError
from app.domain.shipments import (
    PICKUP,
    STATUS_ZH,
    Leg,
    LegStatus,
    MailingAddress,
    address_problems,
)
from app.edge.errors import back
from app.services.case_reads import NOT_FOUND
from app.web import divisions
from app.web.session import checked_form, csrf_token, signed_in

routes = web.RouteTableDef()
FIELDS = ("name", "mobile", "province", "city", "district", "detail", "window")  # page order


@routes.get("/h5/cases/{number}/pickup")
async def pickup_page(request: web.Request) -> web.Response:
    """Where and when the courier collects the originals; filled in from what we know of them."""
    actor = await signed_in(request)
    case, leg = await _owned_leg(request, actor)
    address = leg.address.as_dict() if leg else await _known_address(request, actor)
    return await _form_page(request, case, leg, address, {}, leg.window.key if leg else "")


@routes.post("/h5/cases/{number}/pickup")
@back("/h5/cases/{number}/pickup")
async def request_pickup(request: web.Request) -> web.Response:
    """Every problem at once, each beside its field, the typed values kept; else book."""
    actor = await signed_in(request)
    number = request.match_info["number"]
    form = await checked_form(request)
    shipments = request.config_dict[keys.SHIPMENTS]
    place = [form.get(k, "").strip() for k in ("province", "city", "district")]
    found = divisions.problems(*place) | address_problems(form)
    if form.get("window", "") not in {w.key for w in shipments.windows()}:
        found["window"] = "请选择上门取件时间"
    if found:
        case, leg = await _owned_leg(request, actor)
        typed = {k: form.get(k, "") for k in FIELDS}
        errors = {k: found[k] for k in FIELDS if k in found}
        return await _form_page(request, case, leg, typed, errors, form.get("window", ""))
    await shipments.request_pickup(actor, number, MailingAddress.parse(form), form["window"])
    raise web.HTTPSeeOther(f"/h5/cases/{number}")


@routes.get("/h5/divisions")
async def division_list(request: web.Request) -> web.Response:
    """A province's cities and their districts, for the address selects (public, cacheable)."""
    province = request.query.get("province", "")
    cities = [
        {"name": city, "districts": list(divisions.districts(province, city))}
        for city in divisions.cities(province)
    ]
    headers = {"Cache-Control": "public, max-age=86400"}  # the same for everyone, for a day
    return web.json_response({"cities": cities}, headers=headers, dumps=_dumps)


async def _owned_leg(request: web.Request, actor: Actor) -> tuple[Case, Leg | None]:
    """The case, if this applicant is its owner (else as if it did not exist), and its pickup."""
    number = request.match_info["number"]
    case = await request.config_dict[keys.CASES].get(actor, number)
    if not case.is_owner(actor):
        raise NotFoundError(NOT_FOUND)
    legs = await request.config_dict[keys.SHIPMENTS].legs_of(actor, number)
    return case, legs.get(PICKUP)


async def _known_address(request: web.Request, actor: Actor) -> dict[str, str]:
    """What the service knows of the signed-in person themself: the address they gave last,
    else the name they were verified with (their own, never someone else's)."""
    last = await request.config_dict[keys.SHIPMENTS].last_address(actor)
    if last is not None:
        return last.as_dict()
    name = await request.config_dict[keys.ACCOUNTS].name_of(actor.id)
    return {"name": name} if name else {}


async def _form_page(
    request: web.Request,
    case: Case,
    leg: Leg | None,
    address: dict[str, str],
    errors: dict[str, str],
    chosen: str,
) -> web.Response:
    shipments = request.config_dict[keys.SHIPMENTS]
    context = {
        "case": case,
        "leg": leg,
        "status": STATUS_ZH[leg.status] if leg else "",
        "address": address,
        "provinces": tuple(divisions.tree()),
        **_place_choices(address.get("province", ""), address.get("city", "")),
        "windows": [(w.key, w.label()) for w in shipments.windows()],
        "chosen": chosen,
        "open": case.state is State.AWAITING_PICKUP and shipments.available,
        "available": shipments.available,
        "cancellable": leg is not None and leg.cancellable,
        "csrf": csrf_token(request),
        "errors": errors,
    }
    status = 422 if errors else 200
    return aiohttp_jinja2.render_template("h5_pickup.html", request, context, status=status)


def _place_choices(province: str, city: str) -> dict[str, tuple[str, ...] | None]:
    """The city and district lists to offer; None where the data has none (type it in)."""
    cities = divisions.cities(province)
    if province and not cities:  # Hong Kong, Macao
        return {"cities": None, "districts": None}
    if city not in cities:
        return {"cities": cities, "districts": ()}
    return {"cities": cities, "districts": divisions.districts(province, city) or None}


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


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
