"""Applicant H5 pages opened from chat links; sign-in by WeChat OAuth2 ``snsapi_base``."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.api.common import case_views
from app.api.tokens import InvalidToken
from app.api.views import event_view
from app.domain.actors import Actor
from app.domain.case_states import Action
from app.domain.cases import CHINA
from app.domain.errors import NotFoundError
from app.services.accounts import account_of_openid
from bot.errors import WeChatError

routes = web.RouteTableDef()
SESSION = "bcm_h5"
STATE = "bcm_oauth"
SESSION_TTL = timedelta(hours=2)


def china_time(iso: str) -> str:
    """An ISO timestamp as the applicant reads it: Beijing time, to the minute."""
    return datetime.fromisoformat(iso).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _set_cookie(
    request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int
) -> None:
    secure = request.config_dict[keys.SETTINGS].public_base_url.startswith("https://")
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="Lax", secure=secure, path="/h5/"
    )


def _session_actor(request: web.Request) -> Actor | None:
    token = request.cookies.get(SESSION)
    if not token:
        return None
    try:
        return request.config_dict[keys.TOKENS].verify(token)
    except InvalidToken:
        return None


def _safe_next(path: str | None) -> str:
    """Only our own H5 pages: no open redirect through the login."""
    if path and path.startswith("/h5/") and "//" not in path and "\\" not in path:
        return path
    return "/h5/cases"


@routes.get("/h5/login")
async def login(request: web.Request) -> web.Response:
    state = secrets.token_urlsafe(16)
    target = _safe_next(request.query.get("next"))
    base = request.config_dict[keys.SETTINGS].public_base_url
    url = request.config_dict[keys.WECHAT_CLIENT].oauth_authorize_url(f"{base}/h5/oauth", state)
    response = web.HTTPFound(url)
    _set_cookie(request, response, STATE, f"{state}|{target}", 600)
    raise response


@routes.get("/h5/oauth")
async def oauth_return(request: web.Request) -> web.Response:
    expected, _, target = request.cookies.get(STATE, "").partition("|")
    state, code = request.query.get("state", ""), request.query.get("code", "")
    if not expected or not code or not hmac.compare_digest(expected, state):
        return _message(request, "登录已过期，请从公众号消息中的链接重新打开。", status=400)
    # The code exchange is the sign-in itself: the user waits for it by nature.
    try:
        openid = await request.config_dict[keys.WECHAT_CLIENT].oauth_openid(code)
    except WeChatError:  # an expired or reused code, or WeChat unreachable
        return _message(request, "登录未成功，请从公众号消息中的链接重新打开。", status=400)
    actor = await account_of_openid(request.config_dict[keys.DOCUMENTS], openid)
    if actor is None:
        return _message(request, "您还没有绑定身份。请在公众号中回复“绑定”，完成后再打开本页面。")
    token = request.config_dict[keys.TOKENS].issue(actor, ttl=SESSION_TTL)
    response = web.HTTPFound(_safe_next(target))
    _set_cookie(request, response, SESSION, token, int(SESSION_TTL.total_seconds()))
    response.del_cookie(STATE, path="/h5/")
    raise response


@routes.get("/h5/cases")
async def my_cases(request: web.Request) -> web.Response:
    actor = _session_actor(request)
    if actor is None:
        raise web.HTTPFound("/h5/login?next=/h5/cases")
    cases = request.config_dict[keys.CASES]
    page = await cases.list_for(actor, size=50)
    views = await case_views(request, page.items)
    return aiohttp_jinja2.render_template("h5_cases.html", request, {"cases": views})


@routes.get("/h5/cases/{number}")
async def case_page(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    actor = _session_actor(request)
    if actor is None:
        raise web.HTTPFound(f"/h5/login?next={quote(f'/h5/cases/{number}')}")
    cases = request.config_dict[keys.CASES]
    try:
        case = await cases.view(actor, number, purpose="h5")
    except NotFoundError as exc:
        return _message(request, exc.message, status=404)
    events = await cases.history(actor, number)
    [view] = await case_views(request, [case])
    return aiohttp_jinja2.render_template(
        "h5_case.html", request, {"case": view, "events": [event_view(e) for e in events]}
    )


@routes.get("/h5/cases/{number}/notices/{k:[0-9]{1,3}}")
async def notice_page(request: web.Request) -> web.Response:
    """One correction notice as issued: every material to fix, the reviewer's and the machine's."""
    number, k = request.match_info["number"], int(request.match_info["k"])
    actor = _session_actor(request)
    if actor is None:
        raise web.HTTPFound(f"/h5/login?next={quote(f'/h5/cases/{number}/notices/{k}')}")
    try:
        case = await request.config_dict[keys.CASES].view(actor, number, purpose="h5")
    except NotFoundError as exc:
        return _message(request, exc.message, status=404)
    if not 1 <= k <= len(case.notices):
        return _message(request, "没有找到这份补正告知书，请从办件页面查看。", status=404)
    issued = [
        e
        for e in await request.config_dict[keys.CASES].history(actor, number)
        if e.action == Action.RETURN.value and e.detail.get("notice") == k
    ]
    slots = {s.id: s for s in case.terms.slots}
    items = [
        {
            "subject": slots[i.slot_id].name if i.slot_id in slots else "申请事项",
            "problems": i.problems(),
            "sample": slots[i.slot_id].sample if i.slot_id in slots else None,
            "replaced": i.slot_id in case.changed_since_notice and k == len(case.notices),
        }
        for i in case.notices[k - 1].items
    ]
    context = {
        "case": case,
        "k": k,
        "items": items,
        "issued_at": china_time(issued[0].at.isoformat()) if issued else "",
        "current": k == len(case.notices) and case.state.value == "returned",
    }
    return aiohttp_jinja2.render_template("h5_notice.html", request, context)


def _message(request: web.Request, text: str, *, status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template("h5_message.html", request, {"text": text}, status=status)
