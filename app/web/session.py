"""What every H5 page needs: the signed-in applicant, a login redirect, CSRF tokens, messages."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import BodyPartReader, web

from app import keys
from app.domain.actors import Actor
from app.domain.cases import CHINA
from app.edge.errors import InvalidToken

SESSION = "bcm_h5"
SESSION_TTL = timedelta(hours=2)
CSRF_FIELD = "csrf"


def china_time(iso: str) -> str:
    """An ISO timestamp as the applicant reads it: Beijing time, to the minute."""
    return datetime.fromisoformat(iso).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def set_cookie(
    request: web.Request,
    response: web.StreamResponse,
    name: str,
    value: str,
    max_age: int,
    *,
    path: str = "/h5/",
    samesite: str = "Lax",
) -> None:
    secure = request.config_dict[keys.SETTINGS].public_base_url.startswith("https://")
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite=samesite, secure=secure, path=path
    )


def token_actor(request: web.Request, cookie: str) -> Actor | None:
    """The actor a session cookie names, as signed (staff sessions carry no authorities)."""
    token = request.cookies.get(cookie)
    if not token:
        return None
    try:
        return request.config_dict[keys.TOKENS].verify(token)
    except InvalidToken:
        return None


async def session_actor(request: web.Request, cookie: str = SESSION) -> Actor | None:
    """The signed-in actor; an applicant's authorities read now, so a revoked one is gone."""
    actor = token_actor(request, cookie)
    return None if actor is None else await request.config_dict[keys.ACCOUNTS].current(actor)


def safe_next(path: str | None, prefix: str) -> str:
    """Only our own pages under ``prefix``: no open redirect through a sign-in."""
    if path and path.startswith(prefix) and "//" not in path and "\\" not in path:
        return path
    return prefix


async def signed_in(request: web.Request) -> Actor:
    """The applicant behind this page, or a redirect through the WeChat login back to it."""
    actor = await session_actor(request)
    if actor is None:
        raise web.HTTPFound(f"/h5/login?next={quote(request.path_qs)}")
    return actor


def csrf_token(request: web.Request, cookie: str = SESSION) -> str:
    """A token bound to this session: a form from another site cannot know it."""
    key = request.config_dict[keys.SETTINGS].jwt_key.encode()
    session = request.cookies.get(cookie, "").encode()
    return hmac.new(key, b"form:" + session, hashlib.sha256).hexdigest()[:32]


def token_ok(request: web.Request, given: str, cookie: str = SESSION) -> bool:
    """Whether a form's CSRF field matches this session (constant-time)."""
    return bool(request.cookies.get(cookie)) and hmac.compare_digest(
        given, csrf_token(request, cookie)
    )


async def part_chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    """A multipart file field as it arrives, in 64 KiB chunks: never whole in memory."""
    while chunk := await part.read_chunk(64 * 1024):
        yield chunk


async def checked_form(request: web.Request, cookie: str = SESSION) -> dict[str, str]:
    """A small POSTed form whose CSRF token matches the session; 403 otherwise."""
    form = await request.post()
    given = str(form.get(CSRF_FIELD, ""))
    if not request.cookies.get(cookie) or not hmac.compare_digest(
        given, csrf_token(request, cookie)
    ):
        raise web.HTTPForbidden(text="页面已过期，请返回上一页刷新后重试。")
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


def message(request: web.Request, text: str, *, status: int = 200, back: str = "") -> web.Response:
    context = {"text": text, "back": back}
    return aiohttp_jinja2.render_template("h5_message.html", request, context, status=status)
