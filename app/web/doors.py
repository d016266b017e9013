"""Which staff role may pass which door: one table for every staff-side page (/staff/,
/courier/, /kiosk/), checked before any handler runs. A page missing from the table is shut to
everyone, so a new page cannot forget its roles; tests/http/test_doors.py walks the table for
every role and docs/architecture.md prints it. The same table draws the staff pages'
navigation bar: a member sees only the pages their role may open.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from aiohttp_jinja2 import REQUEST_CONTEXT_KEY

from app.domain.actors import Role
from app.domain.errors import NotPermitted
from app.web.session import token_actor

STAFF_COOKIE = "bcm_staff"  # the staff pages' session (app/web/staff.py), scoped per role path
SIDES = ("/staff/", "/courier/", "/kiosk/")
OPEN = frozenset({"/staff/login"})
R, S, A, C, K = Role.REVIEWER, Role.SUPERVISOR, Role.ADMIN, Role.COURIER, Role.KIOSK
DOORS: Mapping[str, frozenset[Role]] = {
    "/staff/": frozenset({R, S, A}),  # each to their own home page
    "/staff/logout": frozenset({R, S, A}),
    # A department's reviewers decide its cases; supervisors and administrators may look (a
    # photo only with a stated reason), never decide.
    "/staff/queue": frozenset({R}),
    "/staff/cases/{number}": frozenset({R, S, A}),
    "/staff/cases/{number}/materials/{slot}/photo": frozenset({R, S, A}),
    "/staff/cases/{number}/preview": frozenset({R}),
    "/staff/cases/{number}/edit": frozenset({R}),
    "/staff/cases/{number}/return": frozenset({R}),
    "/staff/cases/{number}/approve": frozenset({R}),
    "/staff/cases/{number}/issue": frozenset({R}),
    "/staff/cases/{number}/reject": frozenset({R}),
    "/staff/cases/{number}/accept": frozenset({R}),
    "/staff/cases/{number}/refuse": frozenset({R}),
    "/staff/cases/{number}/extend": frozenset({R}),
    "/staff/cases/{number}/pause": frozenset({R}),
    "/staff/cases/{number}/resume": frozenset({R}),
    "/staff/cases/{number}/courier/{kind}/retry": frozenset({R}),
    # 代办 with evidence: the matter's department reviewers, and administrators.
    "/staff/mandates": frozenset({R, A}),
    "/staff/mandates/{id}/{which}": frozenset({R, A}),
    "/staff/mandates/{id}/{decision}": frozenset({R, A}),
    # The hall's windows: check-in, the queue and hand-overs are the department's clerks'.
    "/staff/checkin": frozenset({R}),
    "/staff/checkin/next": frozenset({R}),
    "/staff/checkin/{booking}/call": frozenset({R}),
    "/staff/checkin/{booking}/serve": frozenset({R}),
    "/staff/handover": frozenset({R}),
    "/staff/admin": frozenset({A}),
    "/staff/admin/hall/{department}": frozenset({A}),
    "/staff/admin/restrictions/{username}/lift": frozenset({A}),
    "/staff/admin/calendar": frozenset({A}),
    "/staff/admin/calendar/confirm": frozenset({A}),
    "/staff/dashboard": frozenset({S}),
    "/staff/dashboard.csv": frozenset({S}),
    "/staff/dashboard/payments/retry": frozenset({S}),
    "/staff/dashboard/dead/retry": frozenset({S}),
    "/staff/dashboard/dead/retry-topic": frozenset({S}),
    "/staff/dashboard/follow-ups/{number}/close": frozenset({S}),
    "/courier/": frozenset({C}),
    "/courier/scan": frozenset({C}),
    "/courier/codes/{number}/{step}": frozenset({C}),
    "/courier/logout": frozenset({C}),
    "/kiosk/": frozenset({K}),
    "/kiosk/checkin": frozenset({K}),
    "/kiosk/logout": frozenset({K}),
}
# The pages the staff navigation bar links, in its order, by the names staff know them by.
PAGES = (
    ("/staff/queue", "待办队列"),
    ("/staff/checkin", "签到叫号"),
    ("/staff/handover", "窗口交接"),
    ("/staff/mandates", "代办审核"),
    ("/staff/dashboard", "电子监察"),
    ("/staff/admin", "系统管理"),
)
ROLE_ZH = {R: "部门工作人员", S: "督办人员", A: "系统管理员", C: "快递员", K: "大厅自助机"}
SHUT = "如需使用，请联系管理员调整账号角色。"  # the tail of every refusal at a door

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def door_of(request: web.Request) -> str | None:
    """The staff-side route pattern this request is for, or None for every other page."""
    resource = request.match_info.route.resource
    path = resource.canonical if resource is not None else ""
    return path if path.startswith(SIDES) and path not in OPEN else None


@web.middleware
async def doors(request: web.Request, handler: Handler) -> web.StreamResponse:
    door = door_of(request)
    if door is not None:
        role = _role(request)
        allowed = DOORS.get(door, frozenset())
        if role is not None and role not in allowed:
            whom = "、".join(ROLE_ZH[r] for r in ROLE_ZH if r in allowed) or "指定人员"
            raise NotPermitted(f"该页面仅供{whom}使用。{SHUT}")
        if role is not None and door.startswith("/staff/"):
            _give_templates(request, {"staff_nav": navigation(role, door)})
        # No session: the page itself sends the person to sign in.
    return await handler(request)


def pages_for(role: Role) -> list[tuple[str, str]]:
    """(path, name) of the navigation bar's pages that ``role``'s row of the table opens."""
    return [(path, name) for path, name in PAGES if role in DOORS[path]]


def navigation(role: Role, door: str) -> list[dict[str, Any]]:
    """The bar on a page behind ``door``: the role's pages, the one this door belongs to marked."""
    return [
        {"href": path, "name": name, "current": door == path or door.startswith(path + "/")}
        for path, name in pages_for(role)
    ]


def _give_templates(request: web.Request, values: dict[str, Any]) -> None:
    """Values every template rendered for this request sees (aiohttp_jinja2's request context),
    so staff_base.html draws the bar without each page's handler passing it."""
    with warnings.catch_warnings():
        # aiohttp_jinja2 1.6 keys its request context with a str, which aiohttp 3.14 warns of
        # (aio-libs/aiohttp-jinja2#1025 makes it a RequestKey); no await here, so no other
        # request sees the filter.
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        request[REQUEST_CONTEXT_KEY] = {**request.get(REQUEST_CONTEXT_KEY, {}), **values}


def _role(request: web.Request) -> Role | None:
    """The role of the live staff session, as ``session_middleware`` (run before) found it."""
    actor = token_actor(request, STAFF_COOKIE)
    return None if actor is None else actor.role
