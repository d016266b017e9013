"""The applicant's personal document space on the phone: list, versions, who looked, delete."""

from __future__ import annotations

from datetime import timedelta

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.domain.errors import NotFoundError
from app.domain.space import SpaceDocument
from app.web.session import checked_form, china_time, csrf_token, message, signed_in

routes = web.RouteTableDef()
LINK_LIFETIME = timedelta(minutes=5)  # a photo link shared by mistake soon stops working
PURPOSE_ZH = {"h5": "本人在手机上查看", "h5-photo": "本人查看照片", "applicant": "本人"}
ROLE_ZH = {"applicant": "本人", "agent": "企业经办人", "reviewer": "预审人员", "system": "系统"}


def _doc_view(doc: SpaceDocument) -> dict[str, object]:
    until = doc.current.valid_to
    return {
        "id": doc.id,
        "title": doc.title,
        "versions": [
            {"n": v.n, "added": china_time(v.added_at.isoformat()), "source": _source(v.source)}
            for v in reversed(doc.versions)
        ],
        "current": doc.current.n,
        "valid_to": until.isoformat() if until else "",
        "pinned": sorted(doc.pins),
    }


def _purpose(purpose: str) -> str:
    if purpose.startswith("case:"):
        return f"审核办件 {purpose[5:]}"
    return PURPOSE_ZH.get(purpose, purpose)


def _source(source: str) -> str:
    kind, _, ref = source.partition(":")
    return {"case": f"办件 {ref}", "certificate": f"办件 {ref} 出证"}.get(kind, "上传")


@routes.get("/h5/space")
async def space_page(request: web.Request) -> web.Response:
    actor = signed_in(request)
    docs = await request.config_dict[keys.SPACE].documents(actor)
    context = {"docs": [_doc_view(d) for d in docs]}
    return aiohttp_jinja2.render_template("h5_space.html", request, context)


@routes.get("/h5/space/{doc}")
async def document_page(request: web.Request) -> web.Response:
    actor = signed_in(request)
    space = request.config_dict[keys.SPACE]
    try:
        doc = await space.view(actor, request.match_info["doc"], purpose="h5")
    except NotFoundError as exc:
        return message(request, exc.message, status=404, back="/h5/space")
    log = [
        {
            "at": china_time(e["at"]),
            "who": ROLE_ZH.get(e["detail"].get("role", ""), "工作人员"),
            "why": _purpose(e["detail"].get("purpose", "")),
        }
        for e in await space.access_log(actor, doc.id)
    ]
    context = {"doc": _doc_view(doc), "log": log, "csrf": csrf_token(request)}
    return aiohttp_jinja2.render_template("h5_space_doc.html", request, context)


@routes.get("/h5/space/{doc}/versions/{n:[0-9]{1,4}}")
async def version_photo(request: web.Request) -> web.Response:
    """The photo itself, through a short-lived link; the look is recorded first."""
    actor = signed_in(request)
    try:
        doc = await request.config_dict[keys.SPACE].view(
            actor, request.match_info["doc"], purpose="h5-photo"
        )
        version = doc.version_no(int(request.match_info["n"]))
    except NotFoundError as exc:
        return message(request, exc.message, status=404, back="/h5/space")
    url = await request.config_dict[keys.OBJECTS].download_url(
        version.object_key, expires=LINK_LIFETIME
    )
    raise web.HTTPFound(url)


@routes.post("/h5/space/{doc}/delete")
async def delete_document(request: web.Request) -> web.Response:
    actor = signed_in(request)
    await checked_form(request)
    try:
        await request.config_dict[keys.SPACE].delete(actor, request.match_info["doc"])
    except NotFoundError as exc:
        return message(request, exc.message, status=404, back="/h5/space")
    raise web.HTTPSeeOther("/h5/space")
