"""Staff sign-in on the phone: reviewers, supervisors, administrators, couriers and hall kiosks.

The session is a short JWT in an HttpOnly, SameSite=Strict cookie scoped to /staff/, issued
fresh at every sign-in (a cookie planted before sign-in is never promoted: no fixation), good
for staff pages only (not as an API token) and only while the store says it lives: 退出 ends it
(``session_middleware`` ends the session of a cookie a response deletes), and so do a new
password and a disabled account. The sign-in form itself carries a double-submit token, since
there is no session yet; attempts are limited per name and per client address.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.domain.actors import Actor, Role
from app.edge.clients import client_address
from app.services.sessions import Use
from app.services.staff import FAILURE_WINDOW, SignInFailed, TooManyAttempts
from app.web.session import CSRF_FIELD, checked_form, safe_next, set_cookie, token_actor
from app.web.session import STAFF as STAFF  # the staff pages' cookie, imported from here

routes = web.RouteTableDef()
LOGIN = "bcm_staff_login"
STAFF_TTL = timedelta(hours=8)  # one working day
KIOSK_TTL = timedelta(hours=12)  # a hall terminal signed in before opening lasts until closing
COURIER_PATH = "/courier/"
KIOSK_PATH = "/kiosk/"
# Sessions that live on their own pages only, never on /staff/ (nor on each other's).
OWN_PATH = {Role.COURIER: COURIER_PATH, Role.KIOSK: KIOSK_PATH}
HOME = {
    Role.REVIEWER: "/staff/queue",
    Role.SUPERVISOR: "/staff/dashboard",
    Role.ADMIN: "/staff/admin",
    Role.COURIER: COURIER_PATH,
    Role.KIOSK: KIOSK_PATH,
}


def staff_actor(request: web.Request) -> Actor:
    """The signed-in staff member, or a redirect to sign in and come back."""
    actor = token_actor(request, STAFF)
    if actor is None or (not actor.is_staff and actor.role is not Role.COURIER):
        raise web.HTTPFound(f"/staff/login?next={quote(request.path_qs)}")
    return actor


def _safe_next(path: str | None) -> str:
    for own in OWN_PATH.values():
        if path and path.startswith(own):
            return safe_next(path, own)
    return safe_next(path, "/staff/")


@routes.get("/staff/login")
async def login_page(request: web.Request) -> web.Response:
    token = secrets.token_urlsafe(24)
    context = {"csrf": token, "next": _safe_next(request.query.get("next")), "error": ""}
    response = aiohttp_jinja2.render_template("staff_login.html", request, context)
    set_cookie(request, response, LOGIN, token, 1800, path="/staff/", samesite="Strict")
    return response


@routes.post("/staff/login")
async def login(request: web.Request) -> web.Response:
    form = await request.post()
    expected = request.cookies.get(LOGIN, "")
    if not expected or not hmac.compare_digest(str(form.get(CSRF_FIELD, "")), expected):
        raise web.HTTPForbidden(text="页面已过期，请返回登录页刷新后重试。")
    target = _safe_next(str(form.get("next", "")))
    address = client_address(request, request.config_dict[keys.SETTINGS].trusted_proxies)
    try:
        actor = await request.config_dict[keys.ACCOUNTS].sign_in(
            str(form.get("username", "")), str(form.get("password", "")), address
        )
    except SignInFailed as exc:
        context = {"csrf": expected, "next": target, "error": exc.message}
        crowded = isinstance(exc, TooManyAttempts)
        response = aiohttp_jinja2.render_template(
            "staff_login.html", request, context, status=429 if crowded else 401
        )
        if crowded:
            response.headers["Retry-After"] = str(int(FAILURE_WINDOW.total_seconds()))
        return response
    ttl = KIOSK_TTL if actor.role is Role.KIOSK else STAFF_TTL
    token = request.config_dict[keys.TOKENS].issue(actor, use=Use.STAFF, ttl=ttl)
    home = OWN_PATH.get(actor.role, "/staff/")
    if not target.startswith(home):
        target = HOME.get(actor.role, home)  # a courier's or kiosk's pages, or everyone else's
    response = web.HTTPSeeOther(target if target != "/staff/" else HOME.get(actor.role, target))
    set_cookie(
        request, response, STAFF, token, int(ttl.total_seconds()),
        path=home, samesite="Strict",
    )  # fmt: skip
    response.del_cookie(LOGIN, path="/staff/")
    raise response


@routes.post("/staff/logout")
async def logout(request: web.Request) -> web.Response:
    """退出: the cookie goes, and with it the session, server-side (``session_middleware``)."""
    await checked_form(request, STAFF)
    response = web.HTTPSeeOther("/staff/login")
    response.del_cookie(STAFF, path="/staff/")
    raise response


@routes.get("/staff/")
async def home(request: web.Request) -> web.Response:
    actor = staff_actor(request)
    raise web.HTTPFound(HOME.get(actor.role, "/staff/queue"))
