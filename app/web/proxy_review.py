"""代办审核 on the reviewer's phone: requests for a person without WeChat, with the evidence.

The reviewer sees the person's ID card and the proof of relationship (each look recorded), the
machine's reading of the ID card against the typed name and number, and grants the matter asked
for until a date, or refuses with a reason the handler is told.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.domain.identity import mask_id_number
from app.domain.mandates import RELATIONS, Mandate
from app.edge.errors import back
from app.web.authority import parse_until
from app.web.session import checked_form, csrf_token
from app.web.staff import STAFF, staff_actor

routes = web.RouteTableDef()
PAGE = "/staff/mandates"


@routes.get(PAGE)
async def pending(request: web.Request) -> web.Response:
    actor = staff_actor(request)
    proxies = request.config_dict[keys.PROXIES]
    names = {m.code: m.name for m in await request.config_dict[keys.CATALOG].matters()}
    today = proxies.today()
    context = {
        "requests": [await _view(request, m, names) for m in await proxies.pending_for(actor)],
        "csrf": csrf_token(request, STAFF),
        "default_until": (today + timedelta(days=365)).isoformat(),
        "min_until": (today + timedelta(days=1)).isoformat(),
        "max_until": (today + timedelta(days=3 * 365)).isoformat(),
    }
    return aiohttp_jinja2.render_template("staff_mandates.html", request, context)


async def _view(request: web.Request, m: Mandate, names: dict[str, str]) -> dict[str, Any]:
    assert m.evidence is not None
    return {
        "id": m.id,
        "agent": m.agent_name,
        "agent_id": await request.config_dict[keys.ACCOUNTS].masked_id_number(m.agent),
        "principal": m.evidence.name,
        "principal_id": mask_id_number(m.evidence.id_number),
        "relation": RELATIONS.get(m.evidence.relation, m.evidence.relation),
        "matter": m.scope_zh(names),
        "asked": m.requested_at,
        "findings": m.evidence.findings,
    }


@routes.get(PAGE + "/{id}/{which:id_card|proof}")
@back(PAGE)
async def photo(request: web.Request) -> web.Response:
    """One evidence photo through a five-minute link; the look is recorded."""
    actor = staff_actor(request)
    key = await request.config_dict[keys.PROXIES].evidence_photo(
        actor, request.match_info["id"], request.match_info["which"]
    )
    raise web.HTTPFound(await request.config_dict[keys.OBJECTS].download_url(key))


@routes.post(PAGE + "/{id}/{decision:grant|refuse}")
@back(PAGE)
async def decide(request: web.Request) -> web.Response:
    actor = staff_actor(request)
    form = await checked_form(request, STAFF)
    proxies = request.config_dict[keys.PROXIES]
    mandate_id = request.match_info["id"]
    if request.match_info["decision"] == "grant":
        until = parse_until(form.get("until", ""))
        await proxies.grant(actor, mandate_id, expires_on=until)
    else:
        await proxies.refuse(actor, mandate_id, reason=form.get("reason", ""))
    raise web.HTTPSeeOther(PAGE)
