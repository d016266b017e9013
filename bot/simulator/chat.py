"""A phone chat page that plays the WeChat user: type, photograph, tap the menu, read replies."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import aiohttp_jinja2
from aiohttp import BodyPartReader, web

from bot.simulator.platform import MAX_IMAGE_BYTES, OPENID, OPENID_COOKIE
from bot.simulator.push import PushResult
from bot.simulator.simulator import SIMULATOR, Simulator
from bot.simulator.state import ACCOUNT_NAME, DEMO_OPENID, PlatformError

routes = web.RouteTableDef()
MAX_TEXT_CHARS = 600
EVENTS = frozenset({"subscribe", "unsubscribe", "CLICK", "VIEW"})
SHOWN_CHARS, SHOWN_SUB_CHARS = 4, 8  # what the phone shows of a button's and a sub-button's name
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def _openid(value: Any) -> str:
    if not isinstance(value, str) or not OPENID.match(value):
        raise web.HTTPBadRequest(text="openid 参数错误")
    return value


def _outcome(result: PushResult) -> web.Response:
    return web.json_response(
        {
            "delivered": result.delivered,
            "attempts": result.attempts,
            "status": result.status,
            "error": result.error,
        }
    )


def shown(name: str, chinese_chars: int) -> str:
    """A menu name as the phone shows it: ``chinese_chars`` of Chinese (two Latin letters each),
    the rest cut to "..."."""
    room, out = chinese_chars * 2, ""
    for char in name:
        room -= 1 if char.isascii() else 2
        if room < 0:
            return out + "..."
        out += char
    return out


def menu_buttons(menu: dict[str, Any]) -> list[dict[str, Any]]:
    """The menu's top-level buttons, each with its sub-buttons and shown names, for the page."""
    buttons = []
    for button in menu.get("button", []):
        subs = [
            {**s, "shown": shown(str(s.get("name", "")), SHOWN_SUB_CHARS)}
            for s in button.get("sub_button", [])
            if isinstance(s, dict)
        ]
        buttons.append(
            {**button, "sub_button": subs, "shown": shown(str(button.get("name", "")), SHOWN_CHARS)}
        )
    return buttons


@routes.get("/chat")
async def chat_page(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    openid = _openid(
        request.query.get("openid") or request.cookies.get(OPENID_COOKIE) or DEMO_OPENID
    )
    context = {
        "openid": openid,
        "account_name": ACCOUNT_NAME,
        "menu": menu_buttons(sim.state.menu),
    }
    response = aiohttp_jinja2.render_template("chat.html", request, context)
    response.set_cookie(OPENID_COOKIE, openid, httponly=True, samesite="Lax")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/chat/media/{media_id}")
async def chat_media(request: web.Request) -> web.Response:
    """A photo by URL, as mmbiz.qpic.cn serves PicUrl: no token needed; after a restart, the
    preview the conversation kept."""
    try:
        picture = request.app[SIMULATOR].state.picture(request.match_info["media_id"])
    except PlatformError:
        raise web.HTTPNotFound() from None
    return web.Response(body=picture.data, content_type=picture.content_type)


@routes.post("/chat/api/send")
async def chat_send(request: web.Request) -> web.Response:
    """Push what the user did: ``{openid, text}``, ``{openid, event, key}`` or a photo upload."""
    sim = request.app[SIMULATOR]
    if request.content_type.startswith("multipart/"):
        return await _send_photo(sim, request)
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="请求不是 JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="请求不是 JSON 对象")
    openid = _openid(body.get("openid"))
    text, event, key = body.get("text"), body.get("event"), body.get("key")
    if isinstance(text, str) and text.strip():
        if len(text) > MAX_TEXT_CHARS:
            raise web.HTTPRequestEntityTooLarge(MAX_TEXT_CHARS, len(text), text="消息太长")
        return _outcome(await sim.push_text(openid, text.strip()))
    if event in EVENTS and (key is None or isinstance(key, str)):
        return _outcome(await sim.push_event(openid, str(event), key))
    raise web.HTTPBadRequest(text="需要 text，或 event 和 key")


async def _send_photo(sim: Simulator, request: web.Request) -> web.Response:
    openid: str | None = None
    photo = b""
    async for part in await request.multipart():
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "openid":
            openid = _openid(await part.text())
        elif part.name == "photo":
            photo = await part.read()
    if openid is None or not photo:
        raise web.HTTPBadRequest(text="需要 openid 和 photo")
    if len(photo) > MAX_IMAGE_BYTES:
        raise web.HTTPRequestEntityTooLarge(MAX_IMAGE_BYTES, len(photo), text="图片超过 10 MB")
    if not photo.startswith(IMAGE_MAGIC):
        raise web.HTTPUnsupportedMediaType(text="请选择 JPEG、PNG 或 GIF 图片")
    return _outcome(await sim.push_image(openid, photo))


@routes.get("/chat/api/messages")
async def chat_messages(request: web.Request) -> web.Response:
    """The conversation with ``openid`` after entry ``after``; ``last`` is the next ``after``."""
    state = request.app[SIMULATOR].state
    openid = _openid(request.query.get("openid"))
    try:
        after = max(int(request.query.get("after", "0")), 0)
    except ValueError:
        raise web.HTTPBadRequest(text="after 不是整数") from None
    entries = state.messages(openid, after)
    body = {"messages": [e.to_json() for e in entries], "last": state.log.last}
    return web.json_response(body, dumps=partial(json.dumps, ensure_ascii=False))
