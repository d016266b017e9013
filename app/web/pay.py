"""Paying a case's fee: the applicant's pay page, and Alipay's asynchronous notice endpoint."""

from __future__ import annotations

from urllib.parse import parse_qsl

import aiohttp_jinja2
from aiohttp import web

from app import keys
from app.domain.case_states import LABELS_ZH, State
from app.domain.catalog import yuan
from app.domain.payments import OrderStatus, fee_lines
from app.edge.errors import back
from app.services.payments import PaymentService
from app.web.session import checked_form, csrf_token, message, signed_in

routes = web.RouteTableDef()
MAX_NOTICE_BYTES = 16 * 1024  # a real notice is about 2 KB


@routes.get("/h5/cases/{number}/pay")
async def pay_page(request: web.Request) -> web.Response:
    """The fee items with their legal basis and the total; also where the cashier returns to."""
    number = request.match_info["number"]
    actor = await signed_in(request)
    payments = request.config_dict[keys.PAYMENT_SERVICE]
    statement = await payments.statement(actor, number)
    case = statement.case
    if not case.terms.fee_fen:
        return message(request, "本事项不收取任何费用。", back=f"/h5/cases/{number}")
    returned = request.query.get("out_trade_no", "")
    if returned and case.state is State.AWAITING_PAYMENT:
        # Back from the cashier: the notice usually beats the browser; if not, ask Alipay now.
        await payments.check_soon(number, returned)
    awaiting = case.state is State.AWAITING_PAYMENT
    paid = [o for o in statement.orders if o.status is OrderStatus.PAID]
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
        "csrf": csrf_token(request),
    }
    return aiohttp_jinja2.render_template("h5_pay.html", request, context)


@routes.post("/h5/cases/{number}/pay")
@back("/h5/cases/{number}/pay")
async def pay(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    actor = await signed_in(request)
    await checked_form(request)
    checkout = await request.config_dict[keys.PAYMENT_SERVICE].checkout(actor, number)
    raise web.HTTPSeeOther(checkout.cashier_url)


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
