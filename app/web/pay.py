"""Paying a case's fee: the applicant's pay page, and Alipay's asynchronous notice endpoint.

WeChat's in-app browser does not open Alipay's cashier: there the page guides the payer to
「在浏览器打开」, and its address carries a single-use link (``app.services.pay_handoffs``) that
signs the phone's browser in to this one pay page, since WeChat's cookie does not go along.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.domain.actors import Actor
from app.domain.case_states import LABELS_ZH, State
from app.domain.catalog import yuan
from app.domain.payments import OrderStatus, fee_lines
from app.edge.errors import back
from app.services.pay_handoffs import LINK_LIFE, PASS_LIFE, PayHandoffs
from app.services.payments import PaymentService
from app.web.session import (
    SESSION,
    checked_form,
    csrf_token,
    message,
    session_actor,
    set_cookie,
    signed_in,
)

routes = web.RouteTableDef()
MAX_NOTICE_BYTES = 16 * 1024  # a real notice is about 2 KB
LINK = "token"  # the hand-off link's query parameter (the logs redact a token's value)
PAY_COOKIE = "bcm_pay"  # the cookie that signs a phone's browser in to one case's pay page
SPENT = (
    "这个链接已失效：它只能打开一次，且 {minutes} 分钟内有效。请回到微信重新打开缴费页面，"
    "再点击右上角「···」，选择「在浏览器打开」。"
)


def in_wechat(request: web.Request) -> bool:
    """WeChat's in-app browser, where Alipay's cashier does not open (its user agent says so)."""
    return "MicroMessenger" in request.headers.get("User-Agent", "")


@routes.get("/h5/cases/{number}/pay")
async def pay_page(request: web.Request) -> web.Response:
    """The fee items with their legal basis and the total; also where the cashier returns to."""
    number = request.match_info["number"]
    link = request.query.get(LINK, "")
    if link and not in_wechat(request):
        return await _open_here(request, number, link)
    actor, cookie = await _payer(request, number)
    payments = request.config_dict[keys.PAYMENT_SERVICE]
    statement = await payments.statement(actor, number)  # not theirs: not found
    case = statement.case
    if not case.terms.fee_fen:
        return message(request, "本事项不收取任何费用。", back=f"/h5/cases/{number}")
    returned = request.query.get("out_trade_no", "")
    if returned and case.state is State.AWAITING_PAYMENT:
        # Back from the cashier: the notice usually beats the browser; if not, ask Alipay now.
        await payments.check_soon(number, returned)
    awaiting = case.state is State.AWAITING_PAYMENT
    paid = [o for o in statement.orders if o.status is OrderStatus.PAID]
    guide = in_wechat(request) and awaiting and payments.offered and not paid and not returned
    if guide and not (link and await _handoffs(request).still_good(link, actor, number)):
        # The address 「在浏览器打开」 takes along must carry a link that still opens.
        fresh = await _handoffs(request).link(actor, number)
        raise web.HTTPFound(f"/h5/cases/{number}/pay?{LINK}={fresh}")
    base = request.config_dict[keys.SETTINGS].public_base_url
    context = {
        "case": case,
        "lines": fee_lines(case),
        "total": yuan(case.terms.fee_fen),
        "awaiting": awaiting,
        "state_label": LABELS_ZH[case.state],
        # The money is recorded, the case about to move on (its job runs in a moment).
        "received": awaiting and bool(paid),
        "confirming": bool(returned) and awaiting and not paid,
        "paid": paid,
        "ledger": statement.ledger,
        "offered": payments.offered,
        "csrf": csrf_token(request, cookie),
        "wechat": guide,
        "link": f"{base}/h5/cases/{number}/pay?{LINK}={link}" if guide else "",
        "link_minutes": int(LINK_LIFE.total_seconds() // 60),
        "pass_minutes": int(PASS_LIFE.total_seconds() // 60),
        "passed": cookie == PAY_COOKIE,  # in the phone's browser through a link from WeChat
    }
    return aiohttp_jinja2.render_template("h5_pay.html", request, context)


@routes.post("/h5/cases/{number}/pay")
@back("/h5/cases/{number}/pay")
async def pay(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    actor, cookie = await _payer(request, number)
    await checked_form(request, cookie)
    checkout = await request.config_dict[keys.PAYMENT_SERVICE].checkout(actor, number)
    raise web.HTTPSeeOther(checkout.cashier_url)


def _handoffs(request: web.Request) -> PayHandoffs:
    return PayHandoffs(request.config_dict[keys.DOCUMENTS])


async def _known_payer(request: web.Request, number: str) -> tuple[Actor, str] | None:
    """The payer and the cookie their forms are bound to: the H5 session, else this page's
    pass (resumed like a session: an account disabled since is refused)."""
    actor = await session_actor(request)
    if actor is not None:
        return actor, SESSION
    token = request.cookies.get(PAY_COOKIE)
    session = await _handoffs(request).session(token, number) if token else None
    if session is not None:
        resumed = await request.config_dict[keys.ACCOUNTS].resume(session)
        if resumed is not None:
            return resumed, PAY_COOKIE
    return None


async def _payer(request: web.Request, number: str) -> tuple[Actor, str]:
    """``_known_payer``, or the redirect through the WeChat sign-in back to this page."""
    return await _known_payer(request, number) or (await signed_in(request), SESSION)


async def _open_here(request: web.Request, number: str, link: str) -> web.Response:
    """The hand-off link opened outside WeChat: a pass for this page alone, then the page at
    its plain address (the spent link leaves the address bar and the history)."""
    page = f"/h5/cases/{number}/pay"
    passed = await _handoffs(request).redeem(link, number)
    if passed is None:
        if await _known_payer(request, number) is not None:  # reopened where it already works
            raise web.HTTPSeeOther(page)
        minutes = int(LINK_LIFE.total_seconds() // 60)
        return message(request, SPENT.format(minutes=minutes), status=403)
    response = web.HTTPSeeOther(page)
    set_cookie(request, response, PAY_COOKIE, passed, int(PASS_LIFE.total_seconds()), path=page)
    raise response


@routes.post("/alipay/notify")
async def alipay_notify(request: web.Request) -> web.Response:
    """Answer exactly ``success`` once the notice is recorded; anything else makes Alipay retry."""
    payments = request.config_dict[keys.PAYMENT_SERVICE]
    if not payments.offered:
        raise web.HTTPNotFound()
    if (request.content_length or 0) > MAX_NOTICE_BYTES:
        return web.Response(status=413, text="fail")
    body = await request.content.read(MAX_NOTICE_BYTES + 1)
    if len(body) > MAX_NOTICE_BYTES:
        return web.Response(status=413, text="fail")
    form = _form(request, body)
    ok = await payments.receive_notice(form, sender=request.remote or "unknown")
    return web.Response(text="success" if ok else "fail", content_type="text/plain")


async def serve_notices(service: PaymentService, port: int) -> web.AppRunner:
    """Only the notice endpoint around ``service``, on 127.0.0.1:``port`` (bench and tests)."""
    app = web.Application()
    app[keys.PAYMENT_SERVICE] = service
    app.router.add_post("/alipay/notify", alipay_notify)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def _form(request: web.Request, body: bytes) -> dict[str, str]:
    charset = request.charset or "utf-8"
    try:
        text = body.decode(charset if charset.lower() in {"utf-8", "gbk"} else "utf-8")
    except UnicodeDecodeError:
        return {}
    return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=100))
