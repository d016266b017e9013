"""The applicant's personal document space on the phone: list, versions, who looked, delete."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.domain.space import SpaceDocument
from app.edge.bounds import path_int
from app.edge.errors import back
from app.web.session import (
    CSRF_FIELD,
    checked_form,
    china_time,
    csrf_token,
    message,
    named_part,
    part_chunks,
    signed_in,
    token_ok,
)

routes = web.RouteTableDef()
BACK_UPLOAD = "/h5/space/upload"
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
    actor = await signed_in(request)
    docs = await request.config_dict[keys.SPACE].documents(actor)
    context = {"docs": [_doc_view(d) for d in docs]}
    return aiohttp_jinja2.render_template("h5_space.html", request, context)


@routes.get("/h5/space/upload")
async def upload_form(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    choices = await request.config_dict[keys.SPACE].upload_choices(actor)
    context = {"choices": [name for _, name in choices], "csrf": csrf_token(request)}
    return aiohttp_jinja2.render_template("h5_space_upload.html", request, context)


@routes.post("/h5/space/upload")
@back(BACK_UPLOAD)
async def upload(request: web.Request) -> web.Response:
    """Form fields in order: the page token, the kind of document, then the photo (streamed)."""
    actor = await signed_in(request)
    reader = await request.multipart()
    fields: dict[str, str] = {}
    for name in (CSRF_FIELD, "name"):
        part = await named_part(reader, name)
        if part is None:
            return message(request, "表单不完整，请返回重新选择。", status=400, back=BACK_UPLOAD)
        fields[name] = await part.text()
    if not token_ok(request, fields[CSRF_FIELD]):
        raise web.HTTPForbidden(text="页面已过期，请返回上一页刷新后重试。")
    photo = await named_part(reader, "photo")
    if photo is None:
        return message(request, "请选择要上传的照片。", status=400, back=BACK_UPLOAD)
    await request.config_dict[keys.SPACE].upload(actor, fields["name"], part_chunks(photo))
    return message(
        request,
        f"已收到“{fields['name']}”，正在自动识别。几秒后公众号会告诉您是否已保存。",
        back="/h5/space",
    )


@routes.get("/h5/space/{doc}")
@back("/h5/space")
async def document_page(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    space = request.config_dict[keys.SPACE]
    doc = await space.view(actor, request.match_info["doc"], purpose="h5")
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
@back("/h5/space")
async def version_photo(request: web.Request) -> web.Response:
    """The photo itself, through a short-lived link; the look is recorded first."""
    actor = await signed_in(request)
    doc = await request.config_dict[keys.SPACE].view(
        actor, request.match_info["doc"], purpose="h5-photo"
    )
    version = doc.version_no(path_int(request, "n", low=0, high=9999))
    url = await request.config_dict[keys.OBJECTS].download_url(version.object_key)
    raise web.HTTPFound(url)


@routes.post("/h5/space/{doc}/delete")
@back("/h5/space")
async def delete_document(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    await checked_form(request)
    await request.config_dict[keys.SPACE].delete(actor, request.match_info["doc"])
    raise web.HTTPSeeOther("/h5/space")
