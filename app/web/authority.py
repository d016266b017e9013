"""授权管理 on the phone: a legal representative (or a person) grants, refuses and revokes;
an agent sees what they hold and may give it up. Every form carries the session's CSRF token."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.domain.actors import enterprise, person
from app.domain.errors import ValidationFailed
from app.domain.identity import mask_uscc
from app.domain.mandates import LABELS_ZH, PROOFS_ZH, RELATIONS, Mandate, Status
from app.edge.errors import back
from app.web.session import (
    CSRF_FIELD,
    checked_form,
    csrf_token,
    message,
    named_part,
    part_chunks,
    signed_in,
    token_ok,
)

routes = web.RouteTableDef()
PAGE = "/h5/authority"
PROXY = PAGE + "/proxy"
PROXY_FIELDS = (CSRF_FIELD, "matter", "name", "id_number", "relation")
PHOTOS = ("id_card", "proof")


@routes.get(PAGE)
async def authority_page(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    mandates = request.config_dict[keys.MANDATES]
    today = mandates.today()
    firms = await mandates.represented_by(actor)
    principals = [person(actor.id)] + [enterprise(f["_id"]) for f in firms]
    matters = await request.config_dict[keys.CATALOG].matters()
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
                "past": [
                    await _view(request, m, names)
                    for m in given
                    if m.status is not Status.REQUESTED and not m.active_on(today)
                ],
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
    today = request.config_dict[keys.MANDATES].today()
    expired = m.status is Status.GRANTED and not m.active_on(today)
    return {
        "id": m.id,
        "agent": m.agent_name,
        "agent_id": await request.config_dict[keys.ACCOUNTS].masked_id_number(m.agent),
        "status": "已过期" if expired else LABELS_ZH[m.status],
        "open": m.status is Status.REQUESTED or m.active_on(today),
        "scope": m.scope_zh(names),
        "until": m.expires_on.isoformat() if m.expires_on else "",
        "asked": m.requested_at.date().isoformat(),
        "reason": m.reason or "",
    }


@routes.post(PAGE + "/{id}/{decision:grant|refuse|revoke|withdraw}")
@back(PAGE)
async def decide(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    form = await checked_form(request)
    mandates = request.config_dict[keys.MANDATES]
    mandate_id, decision = request.match_info["id"], request.match_info["decision"]
    if decision == "grant":
        matters, until = _scope(form), parse_until(form.get("until", ""))
        await mandates.grant(actor, mandate_id, matters=matters, expires_on=until)
    elif decision == "refuse":
        await mandates.refuse(actor, mandate_id, reason=form.get("reason", ""))
    elif decision == "revoke":
        await mandates.revoke(actor, mandate_id, reason=form.get("reason", ""))
    else:
        await mandates.withdraw(actor, mandate_id)
    raise web.HTTPSeeOther(PAGE)


def _scope(form: Any) -> tuple[str, ...] | None:
    if form.get("scope") == "all":
        return None
    return tuple(v for k, v in form.items() if k.startswith("matter:"))


def parse_until(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed("请选择授权有效期的截止日期") from exc


@routes.get(PROXY)
async def proxy_form(request: web.Request) -> web.Response:
    """代办 for a family member without WeChat: their ID card and a proof, for a reviewer."""
    await signed_in(request)
    matters = await request.config_dict[keys.CATALOG].matters()
    context = {
        "csrf": csrf_token(request),
        "matters": [(m.code, m.name) for m in matters if "citizen" in m.targets],
        "relations": list(RELATIONS.items()),
        "proofs": PROOFS_ZH,
    }
    return aiohttp_jinja2.render_template("h5_proxy.html", request, context)


@routes.post(PROXY)
@back(PROXY)
async def proxy_submit(request: web.Request) -> web.Response:
    """Fields in order: token, matter, name, ID number, relation, then the two photos (streamed).

    The request is checked before a photo is read, so a refused one keeps nothing.
    """
    actor = await signed_in(request)
    proxies = request.config_dict[keys.PROXIES]
    reader = await request.multipart()
    fields: dict[str, str] = {}
    for name in PROXY_FIELDS:
        part = await named_part(reader, name)
        if part is None:
            return message(request, "表单不完整，请返回重新填写。", status=400, back=PROXY)
        fields[name] = (await part.text())[:100]
    if not token_ok(request, fields.pop(CSRF_FIELD)):
        raise web.HTTPForbidden(text="页面已过期，请返回上一页刷新后重试。")
    await proxies.check(actor, **fields)
    photos: dict[str, str] = {}
    for name in PHOTOS:
        part = await named_part(reader, name)
        if part is None:
            return message(
                request, "请上传委托人身份证人像面和关系证明两张照片。", status=400, back=PROXY
            )
        photos[name] = await proxies.keep_photo(part_chunks(part))
    await proxies.request(actor, **fields, **photos)
    return message(
        request,
        "已提交代办申请。审核人员核对委托人身份证和关系证明后，结果会在公众号告诉您。",
        back=PAGE,
    )
