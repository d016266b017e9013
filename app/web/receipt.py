"""The receipt (收件回执) QR code of a case: a signed link, the owner's redirect, a public view."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

import aiohttp_jinja2
import segno
from aiohttp import web
from markupsafe import Markup

from app import keys
from app.domain.cases import Case
from app.domain.errors import NotFoundError
from app.settings import Settings
from app.web.session import message, session_actor

routes = web.RouteTableDef()

SIGNATURE = re.compile(r"^[0-9a-f]{20}$")
FORGED = "该回执二维码无效，请核对后重新扫描，或在公众号中回复办件号查询办理进度。"


def _secret(settings: Settings) -> bytes:
    """Derived from the JWT secret, never equal to it, and distinct from every other link key."""
    key = settings.jwt_key.encode()
    return hmac.new(key, b"buchumen receipt links v1", hashlib.sha256).digest()


def _signature(settings: Settings, number: str) -> str:
    return hmac.new(_secret(settings), number.encode(), hashlib.sha256).hexdigest()[:20]


def receipt_path(settings: Settings, number: str) -> str:
    """The path the receipt's QR code encodes; the signature stops guessing case numbers."""
    return f"/q/{number}/{_signature(settings, number)}"


def genuine(settings: Settings, number: str, sig: str) -> bool:
    if not SIGNATURE.match(sig) or len(number) > 40:
        return False
    return hmac.compare_digest(sig, _signature(settings, number))


async def receipt_of(request: web.Request, case: Case) -> dict[str, Any] | None:
    """The receipt card of the case page: its public facts and the QR code as inline SVG."""
    if case.submitted_on is None:
        return None  # a draft has not been received yet: nothing to acknowledge
    settings = request.config_dict[keys.SETTINGS]
    status = await request.config_dict[keys.RECEIPTS].status(case.number)
    url = settings.public_base_url + receipt_path(settings, case.number)
    svg = segno.make(url, error="m").svg_inline(scale=4, border=2, omitsize=True)
    return {"status": status, "url": url, "qr": Markup(svg)}  # noqa: S704 - segno's own markup


@routes.get("/q/{number}/{sig}")
async def scanned(request: web.Request) -> web.Response:
    """What the QR code opens. The H5 session cookie lives under /h5/, so go there to see it."""
    number, sig = request.match_info["number"], request.match_info["sig"]
    if not genuine(request.config_dict[keys.SETTINGS], number, sig):
        return message(request, FORGED, status=404)
    raise web.HTTPFound(f"/h5/receipts/{number}/{sig}")


@routes.get("/h5/receipts/{number}/{sig}")
async def receipt_page(request: web.Request) -> web.Response:
    """The case's owner goes to the full case page; anyone else sees the public progress."""
    number, sig = request.match_info["number"], request.match_info["sig"]
    if not genuine(request.config_dict[keys.SETTINGS], number, sig):
        return message(request, FORGED, status=404)
    if await _owner_is_here(request, number):
        raise web.HTTPFound(f"/h5/cases/{number}")
    status = await request.config_dict[keys.RECEIPTS].status(number)
    if status is None:
        return message(request, FORGED, status=404)
    response = aiohttp_jinja2.render_template("h5_receipt.html", request, {"status": status})
    response.headers["Cache-Control"] = "no-store"
    return response


async def _owner_is_here(request: web.Request, number: str) -> bool:
    actor = await session_actor(request)
    if actor is None:
        return False
    try:
        case = await request.config_dict[keys.CASES].get(actor, number)
    except NotFoundError:
        return False
    return case.is_owner(actor)
