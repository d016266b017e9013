"""授权管理 on the phone: a legal representative (or a person) grants, refuses and revokes;
an agent sees what they hold and may give it up. Every form carries the session's CSRF token."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.api.errors import STATUS
from app.domain.actors import enterprise, person
from app.domain.errors import DomainError, ValidationFailed
from app.domain.identity import mask_id_number, mask_uscc
from app.domain.mandates import LABELS_ZH, Mandate, Status
from app.services.accounts import USERS
from app.services.catalog import list_matters
from app.web.session import checked_form, csrf_token, message, signed_in

routes = web.RouteTableDef()
PAGE = "/h5/authority"


@routes.get(PAGE)
async def authority_page(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    mandates = request.config_dict[keys.MANDATES]
    today = mandates.today()
    firms = await mandates.represented_by(actor)
    principals = [person(actor.id)] + [enterprise(f["_id"]) for f in firms]
    matters = await list_matters(request.config_dict[keys.DOCUMENTS])
    names = {m.code: m.name for m in matters}
    sections = []
    for principal in principals:
        is_firm = principal.startswith("enterprise:")
        target = "enterprise" if is_firm else "citizen"
        given = await mandates.granted_by(actor, principal)
        if not is_firm and not given:
            continue  # nobody asked to apply for this person: nothing to show
        firm = next((f for f in firms if enterprise(f["_id"]) == principal), {})
        sections.append(
            {
                "title": f"{firm.get('name') or '企业'}（{mask_uscc(firm['_id'])}）"
                if is_firm
                else "代我办理的家人",
                "pending": [
                    await _view(request, m, names) for m in given if m.status is Status.REQUESTED
                ],
                "granted": [await _view(request, m, names) for m in given if m.active_on(today)],
                "matters": [(m.code, m.name) for m in matters if target in m.targets],
            }
        )
    held = await mandates.held_by(actor)
    who = await mandates.names_of([m.principal for m in held])
    context = {
        "csrf": csrf_token(request),
        "sections": sections,
        "held": [(await _view(request, m, names)) | {"whom": who[m.principal]} for m in held],
        "default_until": (today + timedelta(days=365)).isoformat(),
        "min_until": (today + timedelta(days=1)).isoformat(),
        "max_until": (today + timedelta(days=3 * 365)).isoformat(),
    }
    return aiohttp_jinja2.render_template("h5_authority.html", request, context)


async def _view(request: web.Request, m: Mandate, names: dict[str, str]) -> dict[str, Any]:
    agent = await request.config_dict[keys.DOCUMENTS].get(USERS, m.agent) or {}
    return {
        "id": m.id,
        "agent": m.agent_name,
        "agent_id": mask_id_number(str(agent.get("id_number") or "")),
        "status": LABELS_ZH[m.status],
        "open": m.status in {Status.REQUESTED, Status.GRANTED},
        "scope": m.scope_zh(names),
        "until": m.expires_on.isoformat() if m.expires_on else "",
        "asked": m.requested_at.date().isoformat(),
        "reason": m.reason or "",
    }


@routes.post(PAGE + "/{id}/{decision:grant|refuse|revoke|withdraw}")
async def decide(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    form = await checked_form(request)
    mandates = request.config_dict[keys.MANDATES]
    mandate_id, decision = request.match_info["id"], request.match_info["decision"]
    try:
        if decision == "grant":
            matters, until = _scope(form), _until(form.get("until", ""))
            await mandates.grant(actor, mandate_id, matters=matters, expires_on=until)
        elif decision == "refuse":
            await mandates.refuse(actor, mandate_id, reason=form.get("reason", ""))
        elif decision == "revoke":
            await mandates.revoke(actor, mandate_id, reason=form.get("reason", ""))
        else:
            await mandates.withdraw(actor, mandate_id)
    except DomainError as exc:
        return message(request, exc.message, status=STATUS.get(type(exc), 400), back=PAGE)
    raise web.HTTPSeeOther(PAGE)


def _scope(form: Any) -> tuple[str, ...] | None:
    if form.get("scope") == "all":
        return None
    return tuple(v for k, v in form.items() if k.startswith("matter:"))


def _until(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed("请选择授权有效期的截止日期") from exc
