"""Applicant H5 pages opened from chat links; sign-in by WeChat OAuth2 ``snsapi_base``."""

from __future__ import annotations

import hmac
import secrets

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.domain.case_states import RULES, Action, State
from app.domain.cases import RATEABLE, RATING_COMMENT_MAX, RATINGS, Case
from app.domain.catalog import yuan
from app.domain.errors import NotPermitted
from app.domain.space import case_owner
from app.edge.bounds import path_int
from app.edge.errors import back
from app.edge.views import case_views, event_view
from app.services.case_reads import NOT_FOUND
from app.services.sessions import Use
from app.web.pickup import courier_view
from app.web.receipt import receipt_of
from app.web.session import (
    CSRF_FIELD,
    SESSION,
    SESSION_TTL,
    checked_form,
    china_time,
    csrf_token,
    message,
    named_part,
    part_chunks,
    safe_next,
    set_cookie,
    signed_in,
    token_ok,
)

routes = web.RouteTableDef()
STATE = "bcm_oauth"


def _safe_next(path: str | None) -> str:
    target = safe_next(path, "/h5/")
    return "/h5/cases" if target == "/h5/" else target


@routes.get("/h5/login")
async def login(request: web.Request) -> web.Response:
    state = secrets.token_urlsafe(16)
    target = _safe_next(request.query.get("next"))
    base = request.config_dict[keys.SETTINGS].public_base_url
    url = request.config_dict[keys.SIGN_IN].authorize_url(f"{base}/h5/oauth", state)
    response = web.HTTPFound(url)
    set_cookie(request, response, STATE, f"{state}|{target}", 600)
    raise response


@routes.get("/h5/oauth")
async def oauth_return(request: web.Request) -> web.Response:
    expected, _, target = request.cookies.get(STATE, "").partition("|")
    state, code = request.query.get("state", ""), request.query.get("code", "")
    if not expected or not code or not hmac.compare_digest(expected, state):
        return message(request, "登录已过期，请从公众号消息中的链接重新打开。", status=400)
    # The code exchange is the sign-in itself: the user waits for it by nature.
    openid = await request.config_dict[keys.SIGN_IN].openid(code)
    if openid is None:
        return message(request, "登录未成功，请从公众号消息中的链接重新打开。", status=400)
    actor = await request.config_dict[keys.ACCOUNTS].of_openid(openid)
    if actor is None:
        return message(request, "您还没有绑定身份。请在公众号中回复“绑定”，完成后再打开本页面。")
    token = request.config_dict[keys.TOKENS].issue(actor, use=Use.H5, ttl=SESSION_TTL)
    response = web.HTTPFound(_safe_next(target))
    set_cookie(request, response, SESSION, token, int(SESSION_TTL.total_seconds()))
    response.del_cookie(STATE, path="/h5/")
    raise response


@routes.get("/h5/cases")
async def my_cases(request: web.Request) -> web.Response:
    actor = await signed_in(request)
    cases = request.config_dict[keys.CASES]
    page = await cases.list_for(actor, size=50)
    views = await case_views(request, page.items)
    return aiohttp_jinja2.render_template("h5_cases.html", request, {"cases": views})


@routes.get("/h5/cases/{number}")
async def case_page(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    actor = await signed_in(request)
    cases = request.config_dict[keys.CASES]
    case = await cases.view(actor, number, purpose="h5")
    events = await cases.history(actor, number)
    [view] = await case_views(request, [case])
    context = {
        "case": view,
        "events": [event_view(e) for e in events],
        "fillable": case.state in {State.DRAFT, State.RETURNED},
        "offers": await _space_offers(request, case),
        "csrf": csrf_token(request),
        "receipt": await receipt_of(request, case),
        "rateable": case.state in RATEABLE and case.rating is None,
        "rating": case.rating,
        "follow_up": await request.config_dict[keys.FOLLOW_UPS].of_case(number),
        "fee": yuan(case.terms.fee_fen) if case.terms.fee_fen else "",
        "paid": case.fee_paid,
        "courier": await courier_view(request, case, actor),
        "certificate": await request.config_dict[keys.CERTIFICATES].of_case(actor, number),
        "withdrawable": case.state in RULES[Action.WITHDRAW].sources,
    }
    return aiohttp_jinja2.render_template("h5_case.html", request, context)


async def _space_offers(request: web.Request, case: Case) -> dict[str, dict[str, str]]:
    """Per material, a valid document from the applicant's space that could fill it."""
    space = request.config_dict[keys.SPACE]
    owner = case_owner(case.applicant_id, case.enterprise_uscc)
    offers = {}
    for slot in case.slots:
        doc = await space.usable_for(owner, slot)
        if doc is None:
            continue
        used = case.materials.get(slot.id)
        if used is not None and used.object_key == doc.current.object_key:
            continue  # already this very photo
        until = doc.current.valid_to
        offers[slot.id] = {"doc": doc.id, "valid": f"有效期至 {until}" if until else ""}
    return offers


@routes.post("/h5/cases/{number}/materials/{slot}")
@back("/h5/cases/{number}")
async def upload_page(request: web.Request) -> web.Response:
    """A photo or PDF chosen on the phone, streamed into the slot (CSRF field first)."""
    number, slot = request.match_info["number"], request.match_info["slot"]
    actor = await signed_in(request)
    case_url = f"/h5/cases/{number}"
    reader = await request.multipart()
    first = await named_part(reader, CSRF_FIELD)
    if first is None or not token_ok(request, await first.text()):
        raise web.HTTPForbidden(text="页面已过期，请返回上一页刷新后重试。")
    part = await named_part(reader, "photo")
    if part is None:
        return message(request, "请选择要上传的照片或文件。", status=400, back=case_url)
    await request.config_dict[keys.MATERIALS].upload(
        actor, number, slot, part_chunks(part), version=None, source="h5"
    )
    raise web.HTTPSeeOther(case_url)


@routes.post("/h5/cases/{number}/withdraw")
@back("/h5/cases/{number}")
async def withdraw_page(request: web.Request) -> web.Response:
    """撤回 on the phone: the version the applicant saw, so a decision made meanwhile wins."""
    number = request.match_info["number"]
    actor = await signed_in(request)
    form = await checked_form(request)
    case_url = f"/h5/cases/{number}"
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        return message(request, "页面已过期，请返回办件页刷新后重试。", status=400, back=case_url)
    reason = str(form.get("reason", "")).strip()[:200] or None
    await request.config_dict[keys.CASES].act(
        actor, number, Action.WITHDRAW, version=version, reason=reason
    )
    return message(
        request,
        f"办件 {number} 已撤回。已缴纳的费用会原路退回；如需再办，可重新申请。",
        back=case_url,
    )


@routes.post("/h5/cases/{number}/submit")
@back("/h5/cases/{number}")
async def submit_page(request: web.Request) -> web.Response:
    """提交 (or 重新提交 after a correction notice) from the case page, as in the chat."""
    number = request.match_info["number"]
    actor = await signed_in(request)
    form = await checked_form(request)
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        return message(request, "页面已过期，请返回办件页刷新后重试。", status=400)
    case = await request.config_dict[keys.CASES].submit(actor, number, version=version)
    retake = "、".join(s.name for s in case.slots_to_retake())
    extra = f"机器预审提示重新拍摄的材料（{retake}）将由工作人员审核。" if retake else ""
    return message(
        request, f"办件 {number} 已提交，结果会在公众号通知您。{extra}", back=f"/h5/cases/{number}"
    )


@routes.post("/h5/cases/{number}/materials/{slot}/reuse")
@back("/h5/cases/{number}")
async def reuse_page(request: web.Request) -> web.Response:
    """Fill the slot with a document from the applicant's space."""
    number, slot = request.match_info["number"], request.match_info["slot"]
    actor = await signed_in(request)
    form = await checked_form(request)
    await request.config_dict[keys.CASES].attach_from_space(
        actor, number, slot, form.get("doc", ""), version=None
    )
    raise web.HTTPSeeOther(f"/h5/cases/{number}")


@routes.get("/h5/cases/{number}/notices/{k:[0-9]{1,3}}")
async def notice_page(request: web.Request) -> web.Response:
    """One correction notice as issued: every material to fix, the reviewer's and the machine's."""
    number, k = request.match_info["number"], path_int(request, "k", low=0, high=999)
    actor = await signed_in(request)
    case = await request.config_dict[keys.CASES].view(actor, number, purpose="h5")
    if not 1 <= k <= len(case.notices):
        return message(request, "没有找到这份补正告知书，请从办件页面查看。", status=404)
    issued = [
        e
        for e in await request.config_dict[keys.CASES].history(actor, number)
        if e.action == Action.RETURN.value and e.detail.get("notice") == k
    ]
    slots = {s.id: s for s in case.slots}
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


@routes.get("/h5/cases/{number}/rate")
@back("/h5/cases/{number}")
async def rate_page(request: web.Request) -> web.Response:
    """好差评: the five levels as big choices and an optional comment, for the case's owner."""
    number = request.match_info["number"]
    actor = await signed_in(request)
    try:
        case = await request.config_dict[keys.CASES].get(actor, number)
        case.check_rateable(actor)
    except NotPermitted:  # a reviewer or another agent: as if the case did not exist
        return message(request, NOT_FOUND, status=404)
    context = {
        "case": case,
        "levels": RATINGS,
        "max_comment": RATING_COMMENT_MAX,
        "csrf": csrf_token(request),
    }
    return aiohttp_jinja2.render_template("h5_rate.html", request, context)


@routes.post("/h5/cases/{number}/rate")
@back("/h5/cases/{number}")
async def rate(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    actor = await signed_in(request)
    form = await checked_form(request)
    case_url = f"/h5/cases/{number}"
    comment = form.get("comment", "").strip()
    if len(comment) > RATING_COMMENT_MAX:
        text = f"评价内容请不超过 {RATING_COMMENT_MAX} 字，当前 {len(comment)} 字。"
        return message(request, text, status=422, back=f"{case_url}/rate")
    if form.get("level") not in RATINGS:
        return message(request, "请选择一个评价等级。", status=422, back=f"{case_url}/rate")
    try:
        await request.config_dict[keys.CASES].rate(
            actor, number, form["level"], comment, version=None
        )
    except NotPermitted:
        return message(request, NOT_FOUND, status=404)
    raise web.HTTPSeeOther(case_url)
