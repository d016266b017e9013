"""The hall's self-service kiosk (自助签到机): a visitor shows their booking's QR code to the
terminal's camera or scanner and gets a queue number; the kiosk does nothing else.

A terminal signs in on /staff/login with a kiosk account; its session cookie is scoped to
/kiosk/ (SameSite=Strict), so it opens no staff page. Because the kiosk stands in the hall,
a code checked in here is one carried there in person, for any department's window. After a
check-in the page returns to the scanner by itself, ready for the next visitor.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.domain.actors import Actor, Role
from app.domain.errors import DomainError
from app.edge.errors import on_refusal, status_of
from app.web.session import checked_form, csrf_token, token_actor
from app.web.staff import KIOSK_PATH, STAFF

routes = web.RouteTableDef()
BACK_AFTER_SECONDS = 12  # long enough to read the number, short enough for the next visitor


def kiosk_actor(request: web.Request) -> Actor:
    actor = token_actor(request, STAFF)
    if actor is None or actor.role is not Role.KIOSK:
        raise web.HTTPFound(f"/staff/login?next={quote(request.path_qs)}")
    return actor


@routes.get(KIOSK_PATH)
async def home(request: web.Request) -> web.Response:
    kiosk_actor(request)
    return _render(request, None)


async def _refused(request: web.Request, exc: DomainError) -> web.Response:
    return _render(request, {"ok": False, "text": exc.message}, status=status_of(exc))


@routes.post(KIOSK_PATH + "checkin")
@on_refusal(_refused)
async def check_in(request: web.Request) -> web.Response:
    """A visitor's code, scanned or typed: checked in once, on its day, with a queue number."""
    kiosk_actor(request)
    form = await checked_form(request, STAFF)
    # No clerk: the kiosk serves every department's window.
    booking = await request.config_dict[keys.APPOINTMENTS].check_in(form.get("code", ""))
    matter = await request.config_dict[keys.CATALOG].get(booking.matter_code)
    result = {
        "ok": True,
        "number": booking.queue_number,
        "matter": matter.name,
        "window": f"{matter.department_name}办事窗口",
    }
    return _render(request, result)


@routes.post(KIOSK_PATH + "logout")
async def logout(request: web.Request) -> web.Response:
    await checked_form(request, STAFF)
    response = web.HTTPSeeOther("/staff/login")
    response.del_cookie(STAFF, path=KIOSK_PATH)
    raise response


def _render(
    request: web.Request, result: dict[str, Any] | None, *, status: int = 200
) -> web.Response:
    context = {
        "csrf": csrf_token(request, STAFF),
        "result": result,
        "back_after": BACK_AFTER_SECONDS,
    }
    return aiohttp_jinja2.render_template("kiosk.html", request, context, status=status)
