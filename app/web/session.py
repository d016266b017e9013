"""What every H5 page needs: the signed-in applicant, a login redirect, CSRF tokens, messages.

Sessions: ``session_middleware`` resolves the request's session cookies once, before the
handler: a cookie opens pages only if its token was issued for pages of its kind (a staff cookie
for staff pages, an H5 cookie for H5 pages; an API token is neither) and the store says its
session still lives. A response that deletes a session cookie (退出, on any page) ends that
session server-side, so the old cookie is refused on every instance from its next request.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import BodyPartReader, MultipartReader, web

from app import keys
from app.domain.actors import Actor
from app.domain.cases import CHINA
from app.edge.errors import InvalidToken
from app.services.sessions import Session, Use

SESSION = "bcm_h5"
STAFF = "bcm_staff"  # the staff pages' cookie (/staff/, or a courier's or kiosk's own pages)
USES = {SESSION: Use.H5, STAFF: Use.STAFF}  # what a token in each cookie must be issued for
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


@dataclass(frozen=True)
class SignedIn:
    """A live session and its actor as the store knows them now."""

    session: Session
    actor: Actor


LIVE = web.RequestKey("live_sessions", dict)  # cookie name -> SignedIn, live sessions only


@web.middleware
async def session_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Resolve the session cookies against the store before the handler (page handlers read
    them synchronously); end the session of a cookie the response deletes."""
    live: dict[str, SignedIn] = {}
    for cookie, use in USES.items():
        token = request.cookies.get(cookie)
        if token and (found := await _resume(request, token, use)) is not None:
            live[cookie] = found
    request[LIVE] = live
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # a redirect after 退出 is raised, not returned
        await _end_deleted(request, exc, live)
        raise
    await _end_deleted(request, response, live)
    return response


async def _resume(request: web.Request, token: str, use: Use) -> SignedIn | None:
    try:
        session = request.config_dict[keys.TOKENS].verify(token, use)
    except InvalidToken:
        return None
    actor = await request.config_dict[keys.ACCOUNTS].resume(session)
    return None if actor is None else SignedIn(session, actor)


async def _end_deleted(
    request: web.Request, response: web.StreamResponse, live: dict[str, SignedIn]
) -> None:
    for cookie, signed in live.items():
        deleted = response.cookies.get(cookie)
        if deleted is not None and deleted.value == "":
            await request.config_dict[keys.ACCOUNTS].sign_out(signed.session)


def token_actor(request: web.Request, cookie: str) -> Actor | None:
    """The actor of the live session ``cookie`` holds, as ``session_middleware`` found it (a
    staff session's carries no authorities; an applicant's are read now, so a revoked one is
    gone); None without one, or without the middleware."""
    found: SignedIn | None = request.get(LIVE, {}).get(cookie)
    return None if found is None else found.actor


async def session_actor(request: web.Request, cookie: str = SESSION) -> Actor | None:
    """The signed-in actor; an applicant's authorities read now, so a revoked one is gone."""
    return token_actor(request, cookie)


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


async def named_part(reader: MultipartReader, name: str) -> BodyPartReader | None:
    """The form's next field if it is ``name`` (forms send their fields in page order), else
    None: a form that is incomplete or was not ours."""
    part = await reader.next()
    return part if isinstance(part, BodyPartReader) and part.name == name else None


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
