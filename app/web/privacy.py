"""我的信息 on the phone: what is held, a copy to download, the space choice, signing out,
closing."""

from __future__ import annotations

import asyncio
import tempfile

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.domain.cases import china_date
from app.domain.identity import mask_id_number
from app.edge.errors import back
from app.services.binding import PRIVACY_VERSION
from app.web.session import SESSION, checked_form, china_time, csrf_token, message, signed_in

routes = web.RouteTableDef()
PAGE = "/h5/me"
CONFIRM_WORD = "注销"
SPOOL = 8 * 1024 * 1024  # a ZIP bigger than this is built on disk, not in memory
CLOSED = (
    "您的账号已注销，姓名、身份证号码和微信绑定已删除，个人空间中的证照将按期删除。"
    "办件档案按档案管理规定的保管期限保存。如需再次使用，请在公众号回复“绑定”重新实名绑定。"
)
SIGNED_OUT = (
    "您已退出登录，这台手机上的浏览器不再能打开您的办件和个人信息。"
    "如需再次查看，请从公众号菜单进入，或在公众号回复“查询进度”。"
)


@routes.get(PAGE)
async def me_page(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    seen = await request.config_dict[keys.PRIVACY].overview(actor)
    user = seen["user"]
    consent = user.get("consent") or {}
    verified = user.get("verified") or {}
    context = {
        "name": user.get("name") or "",
        "id_masked": mask_id_number(user["id_number"]) if user.get("id_number") else "",
        "verified_at": china_time(verified["at"]) if verified.get("at") else "",
        "consent_version": consent.get("version") or "",
        "consent_at": china_time(consent["at"]) if consent.get("at") else "",
        "notice_version": PRIVACY_VERSION,
        "opt_in": user.get("space_opt_in"),
        "counts": seen["counts"],
        "waiting": seen["waiting"],
        "confirm_word": CONFIRM_WORD,
        "csrf": csrf_token(request),
    }
    return aiohttp_jinja2.render_template("h5_me.html", request, context)


@routes.get(PAGE + "/export.zip")
@back(PAGE)
async def export_zip(request: web.Request) -> web.StreamResponse:
    """The person's copy, built whole before the first byte leaves: a refusal is a page."""
    actor = await signed_in(request)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL) as out:
        await request.config_dict[keys.PRIVACY].write_zip(actor, out)
        size = out.tell()
        out.seek(0)
        day = china_date(request.config_dict[keys.CASES].now()).strftime("%Y%m%d")
        response = web.StreamResponse(
            headers={
                "Content-Type": "application/zip",
                "Content-Disposition": f'attachment; filename="buchumen-my-data-{day}.zip"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            }
        )
        response.content_length = size
        await response.prepare(request)
        while chunk := await asyncio.to_thread(out.read, 256 * 1024):
            await response.write(chunk)
        await response.write_eof()
    return response


@routes.post(PAGE + "/space")
@back(PAGE)
async def space_choice(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    form = await checked_form(request)
    if form.get("keep") not in {"yes", "no"}:
        return message(request, "请选择开启或关闭个人空间。", status=400, back=PAGE)
    await request.config_dict[keys.PRIVACY].set_space_opt_in(actor, form["keep"] == "yes")
    raise web.HTTPSeeOther(PAGE + "#space")


@routes.post(PAGE + "/delete")
@back(PAGE)
async def delete_account(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    form = await checked_form(request)
    if form.get("confirm", "").strip() != CONFIRM_WORD:
        text = f"请在输入框中填写“{CONFIRM_WORD}”两个字以确认，账号未注销。"
        return message(request, text, status=400, back=PAGE + "#delete")
    await request.config_dict[keys.PRIVACY].delete_account(actor)
    response = message(request, CLOSED)
    response.del_cookie(SESSION, path="/h5/")
    return response


@routes.post("/h5/logout")
async def sign_out(request: web.Request) -> web.Response:
    """退出登录, for a phone that is shared or lent: the cookie goes, and with it the session,
    server-side (``session_middleware``); a page that was open can no longer act as them."""
    if request.cookies.get(SESSION):
        await checked_form(request)  # another site must not be able to sign someone out
    response = message(request, SIGNED_OUT)
    response.del_cookie(SESSION, path="/h5/")
    return response
