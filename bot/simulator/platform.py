"""WeChat's HTTP API as the simulator serves it: the same paths, JSON shapes and errcodes."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiohttp import BodyPartReader, web
from yarl import URL

from bot.simulator.simulator import SIMULATOR
from bot.simulator.state import DEMO_OPENID, PlatformError, PlatformState

routes = web.RouteTableDef()
OPENID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
OPENID_COOKIE = "sim_openid"
MAX_IMAGE_BYTES = 10 * 1024 * 1024  # WeChat's limit on a temporary image
# The custom menu (公众号文档, 创建自定义菜单): names, keys and URLs in UTF-8 bytes.
MAX_BUTTONS, MAX_SUB_BUTTONS = 3, 5
MAX_NAME_BYTES, MAX_SUB_NAME_BYTES, MAX_KEY_BYTES, MAX_URL_BYTES = 16, 60, 128, 1024
# An escape with an even number of backslashes before it is a real \\u escape.
_UNICODE_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u")
_dumps = partial(json.dumps, ensure_ascii=False)


def _state(request: web.Request) -> PlatformState:
    return request.app[SIMULATOR].state


def ok(**data: Any) -> web.Response:
    return web.json_response({"errcode": 0, "errmsg": "ok", **data}, dumps=_dumps)


@web.middleware
async def platform_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """WeChat answers a refused call with HTTP 200 and ``{"errcode", "errmsg"}``."""
    try:
        return await handler(request)
    except PlatformError as e:
        return web.json_response({"errcode": e.errcode, "errmsg": e.errmsg}, dumps=_dumps)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The body as WeChat reads it: UTF-8 JSON, where a \\uXXXX escape stays literal text."""
    try:
        text = (await request.read()).decode("utf-8")
        # WeChat shows "\\u4f60" to the user instead of 你: keep the escape as six characters.
        body = json.loads(_UNICODE_ESCAPE.sub(r"\1\\\\u", text))
    except (UnicodeDecodeError, ValueError):
        raise PlatformError(47001, "data format error") from None
    if not isinstance(body, dict):
        raise PlatformError(47001, "data format error")
    return body


def _part(body: dict[str, Any], name: str) -> dict[str, Any]:
    part = body.get(name)
    return part if isinstance(part, dict) else {}


def _touser(body: dict[str, Any]) -> str:
    touser = body.get("touser")
    if not isinstance(touser, str) or not OPENID.match(touser):
        raise PlatformError(40003, "invalid openid")
    return touser


@routes.get("/cgi-bin/token")
async def token(request: web.Request) -> web.Response:
    q = request.query
    access_token, ttl = _state(request).issue_token(
        q.get("grant_type", ""), q.get("appid", ""), q.get("secret", "")
    )
    return web.json_response({"access_token": access_token, "expires_in": ttl})


@routes.get("/cgi-bin/get_api_domain_ip")
async def api_domain_ip(request: web.Request) -> web.Response:
    """The API servers' addresses: what a client asks to learn that WeChat answers at all."""
    _state(request).check_token(request.query.get("access_token"))
    return web.json_response({"ip_list": ["127.0.0.1"]})


@routes.post("/cgi-bin/message/custom/send")
async def custom_send(request: web.Request) -> web.Response:
    state = _state(request)
    state.check_token(request.query.get("access_token"))
    body = await json_body(request)
    touser = _touser(body)
    kind = body.get("msgtype")
    if kind == "text":
        content = _part(body, "text").get("content")
        if not isinstance(content, str) or not content:
            raise PlatformError(44004, "empty content")
        state.check_window(touser)
        state.record(touser, "account", "text", "custom", text=content)
    elif kind == "image":
        media_id = str(_part(body, "image").get("media_id", ""))
        state.get_media(media_id)
        state.check_window(touser)
        state.record(touser, "account", "image", "custom", media_id=media_id)
    else:
        raise PlatformError(40008, "invalid message type")
    return ok()


@routes.post("/cgi-bin/message/template/send")
async def template_send(request: web.Request) -> web.Response:
    state = _state(request)
    state.check_token(request.query.get("access_token"))
    body = await json_body(request)
    touser = _touser(body)
    template_id, data, url = body.get("template_id"), body.get("data"), body.get("url")
    if not isinstance(template_id, str) or not template_id:
        raise PlatformError(40037, "invalid template_id")
    if not isinstance(data, dict) or (url is not None and not isinstance(url, str)):
        raise PlatformError(47001, "data format error")
    fields = {str(k): str(v.get("value", "")) for k, v in data.items() if isinstance(v, dict)}
    msgid = state.next_msgid()
    labels = state.template_labels.get(template_id, {})
    state.record(touser, "account", "template", "template", fields=fields, labels=labels, url=url)
    return ok(msgid=int(msgid))


@routes.post("/cgi-bin/media/upload")
async def media_upload(request: web.Request) -> web.Response:
    state = _state(request)
    state.check_token(request.query.get("access_token"))
    if request.query.get("type") != "image":
        raise PlatformError(40004, "invalid media type")
    data, content_type = b"", "image/jpeg"
    reader = await request.multipart()
    async for part in reader:
        if isinstance(part, BodyPartReader) and part.name == "media":
            data = await part.read()
            content_type = part.headers.get("Content-Type", content_type)
    if not data or len(data) > MAX_IMAGE_BYTES:
        raise PlatformError(40009, "invalid image size")
    media_id = await request.app[SIMULATOR].store_photo(data, content_type)
    created_at = int(state.clock().timestamp())
    return web.json_response({"type": "image", "media_id": media_id, "created_at": created_at})


@routes.get("/cgi-bin/media/get")
async def media_get(request: web.Request) -> web.Response:
    state = _state(request)
    state.check_token(request.query.get("access_token"))
    media_id = request.query.get("media_id", "")
    media = state.get_media(media_id)
    disposition = f'attachment; filename="{secrets.token_hex(8)}.jpg"'
    return web.Response(
        body=media.data,
        content_type=media.content_type,
        headers={"Content-disposition": disposition},
    )


def _check_name(item: Any, max_bytes: int) -> None:
    name = item.get("name") if isinstance(item, dict) else None
    if not isinstance(name, str) or not name or len(name.encode("utf-8")) > max_bytes:
        raise PlatformError(40018, "invalid button name size")


def _check_target(item: dict[str, Any]) -> None:
    """A click button's key (at most 128 bytes) or a view button's URL (at most 1,024)."""
    kind = item.get("type")
    target = item.get("key") if kind == "click" else item.get("url")
    if kind not in ("click", "view") or not isinstance(target, str) or not target:
        raise PlatformError(40017, "invalid button type")
    if kind == "click" and len(target.encode("utf-8")) > MAX_KEY_BYTES:
        raise PlatformError(40019, "invalid button key size")
    if kind == "view" and len(target.encode("utf-8")) > MAX_URL_BYTES:
        raise PlatformError(40020, "invalid button url size")


@routes.post("/cgi-bin/menu/create")
async def menu_create(request: web.Request) -> web.Response:
    """WeChat's menu rules: 1-3 buttons of at most 16 bytes, 1-5 sub-buttons of at most 60."""
    state = _state(request)
    state.check_token(request.query.get("access_token"))
    menu = await json_body(request)
    buttons = menu.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        raise PlatformError(40016, "invalid button size")
    for button in buttons:
        _check_name(button, MAX_NAME_BYTES)
        subs = button.get("sub_button")
        if isinstance(subs, list) and not 1 <= len(subs) <= MAX_SUB_BUTTONS:
            raise PlatformError(40016, "invalid button size")
        for sub in subs if isinstance(subs, list) else []:
            _check_name(sub, MAX_SUB_NAME_BYTES)
        for item in subs if isinstance(subs, list) and subs else [button]:
            _check_target(item)
    state.menu = menu
    return ok()


@routes.get("/connect/oauth2/authorize")
async def oauth_authorize(request: web.Request) -> web.Response:
    """The user agrees silently (snsapi_base) and goes back with a single-use code."""
    state, q = _state(request), request.query
    if q.get("appid") != state.appid:
        raise web.HTTPBadRequest(text="appid 参数错误")
    redirect = URL(q.get("redirect_uri", ""))
    if redirect.scheme not in ("http", "https") or not redirect.host:
        raise web.HTTPBadRequest(text="redirect_uri 参数错误")
    if q.get("response_type") != "code" or q.get("scope") != "snsapi_base":
        raise web.HTTPBadRequest(text="scope 参数错误（模拟器只支持 snsapi_base）")
    openid = q.get("openid") or request.cookies.get(OPENID_COOKIE) or DEMO_OPENID
    if not OPENID.match(openid):
        raise web.HTTPBadRequest(text="openid 参数错误")
    code = state.issue_code(openid)
    raise web.HTTPFound(redirect.update_query(code=code, state=q.get("state", "")))


@routes.get("/sns/oauth2/access_token")
async def oauth_access_token(request: web.Request) -> web.Response:
    state, q = _state(request), request.query
    state.check_app(q.get("appid", ""), q.get("secret", ""))
    if q.get("grant_type") != "authorization_code":
        raise PlatformError(40002, "invalid grant_type")
    openid = state.redeem_code(q.get("code", ""))
    return web.json_response(
        {
            "access_token": secrets.token_urlsafe(48),
            "expires_in": 7200,
            "refresh_token": secrets.token_urlsafe(48),
            "openid": openid,
            "scope": "snsapi_base",
        }
    )
