"""The department counter's scan page: originals arriving, certificates leaving with a courier."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.domain.actors import Actor
from app.domain.errors import DomainError
from app.web.session import checked_form, csrf_token
from app.web.staff import STAFF, staff_actor
from logistics.pickup_codes import PickupCodeRejected

routes = web.RouteTableDef()


def _clerk(request: web.Request) -> Actor:
    actor = staff_actor(request)
    if actor.department is None:
        raise web.HTTPForbidden(text="窗口交接仅供部门工作人员使用。")
    return actor


async def _page(
    request: web.Request, expect: str, result: dict[str, object] | None, status: int = 200
) -> web.Response:
    context = {"csrf": csrf_token(request, STAFF), "result": result, "expect": expect}
    return aiohttp_jinja2.render_template("staff_handover.html", request, context, status=status)


@routes.get("/staff/handover")
async def page(request: web.Request) -> web.Response:
    _clerk(request)
    return await _page(request, request.query.get("case", ""), None)


@routes.post("/staff/handover")
async def scan(request: web.Request) -> web.Response:
    """The courier's code, scanned or typed: originals received, or the certificate handed out."""
    clerk = _clerk(request)
    form = await checked_form(request, STAFF)
    expect = form.get("case", "").strip()
    assert clerk.department is not None
    counter = await request.config_dict[keys.SHIPMENTS].counter(clerk.department)
    try:
        done = await request.config_dict[keys.CUSTODY].scan(
            clerk,
            form.get("code", ""),
            place=counter.name if counter else "部门窗口",
            expect_case=expect or None,
        )
    except (DomainError, PickupCodeRejected) as exc:
        return await _page(request, expect, {"ok": False, "text": exc.message}, status=422)
    result = {"ok": True, "text": done.text, "case": done.case.number}
    return await _page(request, expect, result)
