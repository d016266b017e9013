"""The courier's phone pages: scan the applicant's code at the door, show codes at the counter.

Couriers sign in on /staff/login with a courier account; their session cookie is scoped to
/courier/ (SameSite=Strict), so it opens no staff page. The camera reads QR codes through the
browser's BarcodeDetector where there is one; typing the code always works.
"""

from __future__ import annotations

from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from app import keys
from app.domain.actors import Actor, Role
from app.domain.custody import LABELS_ZH, Step
from app.domain.errors import DomainError
from app.edge.errors import back
from app.web.session import checked_form, csrf_token, message, token_actor
from app.web.staff import COURIER_PATH, STAFF
from logistics.pickup_codes import PickupCodeRejected

routes = web.RouteTableDef()
SHOWN = {"arrival": Step.ARRIVAL, "dispatch": Step.DISPATCH}


def courier_actor(request: web.Request) -> Actor:
    actor = token_actor(request, STAFF)
    if actor is None or actor.role is not Role.COURIER:
        raise web.HTTPFound(f"/staff/login?next={quote(request.path_qs)}")
    return actor


def place_of(form: dict[str, str]) -> str:
    """Where the scan happened: the courier's words, else the phone's position (rounded)."""
    typed = form.get("place", "").strip()
    if typed:
        return typed
    try:
        lat, lon = float(form.get("lat", "")), float(form.get("lon", ""))
    except ValueError:
        return ""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return ""
    return f"定位 {lat:.3f}, {lon:.3f}"  # about a hundred metres: enough to tell where


async def _home(
    request: web.Request, actor: Actor, result: dict[str, object] | None
) -> web.Response:
    tasks = await request.config_dict[keys.CUSTODY].courier_tasks(actor)
    context = {
        "csrf": csrf_token(request, STAFF),
        "result": result,
        "hand_in": tasks["hand_in"],
        "collect": tasks["collect"],
    }
    status = 200 if result is None or result["ok"] else 422
    return aiohttp_jinja2.render_template("courier_home.html", request, context, status=status)


@routes.get("/courier/")
async def home(request: web.Request) -> web.Response:
    return await _home(request, courier_actor(request), None)


@routes.post("/courier/scan")
async def scan(request: web.Request) -> web.Response:
    """The applicant's pickup code, scanned or typed: the originals are in the courier's hands."""
    actor = courier_actor(request)
    form = await checked_form(request, STAFF)
    try:
        done = await request.config_dict[keys.CUSTODY].scan(
            actor, form.get("code", ""), place=place_of(form)
        )
        result: dict[str, object] = {"ok": True, "text": done.text}
    except (DomainError, PickupCodeRejected) as exc:
        result = {"ok": False, "text": exc.message}
    return await _home(request, actor, result)


@routes.get("/courier/codes/{number}/{step}")
@back(COURIER_PATH)
async def show_code(request: web.Request) -> web.Response:
    """A code for the counter to scan: handing originals in, or taking a certificate out."""
    actor = courier_actor(request)
    number, step = request.match_info["number"], SHOWN.get(request.match_info["step"])
    if step is None:
        return message(request, "没有这个交接环节。", status=404, back=COURIER_PATH)
    shown = await request.config_dict[keys.CUSTODY].show_code(actor, number, step)
    context = {
        "number": number,
        "title": LABELS_ZH[step],
        "qr": Markup(shown.issued.qr_svg(scale=5)),  # noqa: S704 - segno's own SVG markup
        "token": shown.typed,
        "csrf": csrf_token(request, STAFF),
    }
    return aiohttp_jinja2.render_template("courier_code.html", request, context)


@routes.post("/courier/logout")
async def logout(request: web.Request) -> web.Response:
    await checked_form(request, STAFF)
    response = web.HTTPSeeOther("/staff/login")
    response.del_cookie(STAFF, path=COURIER_PATH)
    raise response
