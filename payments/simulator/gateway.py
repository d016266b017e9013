"""The simulated gateway: ``/gateway.do`` (signed OpenAPI calls) and the phone cashier page."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from payments.alipay import TIME_FORMAT, beijing_time
from payments.port import yuan
from payments.signing import notification_content, request_content, rsa2_sign, rsa2_verify
from payments.simulator.ledger import BUYER_ID, BUYER_LOGON_ID, Ledger, Refusal, SimTrade
from payments.simulator.ledger import biz_content as read_biz
from payments.simulator.notifier import Notifier

MAX_REQUEST_BYTES = 64 * 1024
APIS = ("alipay.trade.query", "alipay.trade.close", "alipay.trade.refund")


class AlipaySimulator:
    """One application (app_id, its public key) collecting for one seller at a simulated Alipay."""

    def __init__(
        self,
        *,
        app_id: str,
        app_public_key: rsa.RSAPublicKey,
        seller_id: str,
        alipay_private_key: rsa.RSAPrivateKey,
        ledger: Ledger,
        notifier: Notifier,
    ) -> None:
        self.app_id = app_id
        self.app_public_key = app_public_key
        self.seller_id = seller_id
        self.alipay_private_key = alipay_private_key
        self.ledger = ledger
        self.notifier = notifier
        self.base_url: str | None = None  # set by start_alipay_simulator

    def __repr__(self) -> str:
        return f"AlipaySimulator(app_id={self.app_id!r}, seller_id={self.seller_id!r})"

    @property
    def alipay_public_key(self) -> rsa.RSAPublicKey:
        """The key our side verifies Alipay's answers and notifications with."""
        return self.alipay_private_key.public_key()

    def check_request(self, params: Mapping[str, str]) -> None:
        """Refuse unless ``params`` come from our app, signed RSA2 with its private key."""
        if params.get("app_id") != self.app_id:
            raise Refusal("isv.invalid-app-id", "无效的AppID参数", code="40002")
        if params.get("sign_type") != "RSA2":
            raise Refusal("isv.invalid-signature-type", "无效的签名类型", code="40002")
        if not params.get("timestamp"):
            raise Refusal("isv.missing-timestamp", "缺少时间戳参数", code="40001")
        try:
            datetime.strptime(params["timestamp"], TIME_FORMAT)
        except ValueError:
            raise Refusal("isv.invalid-timestamp", "非法的时间戳参数", code="40002") from None
        if params.get("charset", "utf-8").lower() != "utf-8":
            raise Refusal("isv.invalid-charset", "字符集错误", code="40002")
        sign = params.get("sign", "")
        if not sign or not rsa2_verify(self.app_public_key, request_content(params), sign):
            raise Refusal("isv.invalid-signature", "验签出错", code="40002")

    def answer(self, method: str, node: Mapping[str, Any]) -> web.Response:
        """A JSON answer signed over the node's exact characters, as Alipay signs them."""
        node_json = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
        name = method.replace(".", "_") + "_response"
        sign = rsa2_sign(self.alipay_private_key, node_json)
        text = f'{{"{name}":{node_json},"sign":"{sign}"}}'
        return web.Response(text=text, content_type="application/json", charset="utf-8")

    def notify(self, trade: SimTrade, **extra: str) -> None:
        """Send ``trade_status_sync`` for ``trade`` to its notify_url (nothing if it has none)."""
        if not trade.notify_url:
            return
        params = {
            "notify_type": "trade_status_sync",
            "charset": "utf-8",
            "version": "1.0",
            "app_id": self.app_id,
            "seller_id": self.seller_id,
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "trade_status": trade.status.value,
            "total_amount": yuan(trade.total_fen),
            "subject": trade.subject,
            "buyer_id": BUYER_ID,
            "buyer_logon_id": BUYER_LOGON_ID,
            "gmt_create": beijing_time(trade.created_at),
        }
        if trade.paid_at is not None:
            amount = yuan(trade.total_fen)
            params |= {
                "gmt_payment": beijing_time(trade.paid_at),
                "receipt_amount": amount,
                "invoice_amount": amount,
                "buyer_pay_amount": amount,
                "point_amount": "0.00",
                "fund_bill_list": json.dumps(
                    [{"amount": amount, "fundChannel": "ALIPAYACCOUNT"}], separators=(",", ":")
                ),
            }
        self.notifier.send(trade.notify_url, params | extra)

    def return_url(self, trade: SimTrade) -> str | None:
        """Where the payer's browser goes after paying, with Alipay's signed sync parameters."""
        if not trade.return_url:
            return None
        params = {
            "charset": "utf-8",
            "out_trade_no": trade.out_trade_no,
            "method": "alipay.trade.wap.pay.return",
            "total_amount": yuan(trade.total_fen),
            "trade_no": trade.trade_no,
            "auth_app_id": self.app_id,
            "version": "1.0",
            "app_id": self.app_id,
            "seller_id": self.seller_id,
            "timestamp": beijing_time(self.ledger.clock()),
            "sign_type": "RSA2",
        }
        params["sign"] = rsa2_sign(self.alipay_private_key, notification_content(params))
        joiner = "&" if "?" in trade.return_url else "?"
        return trade.return_url + joiner + urlencode(params)


SIMULATOR = web.AppKey("alipay_simulator", AlipaySimulator)
routes = web.RouteTableDef()


@routes.route("*", "/gateway.do")
async def gateway(request: web.Request) -> web.StreamResponse:
    sim = request.app[SIMULATOR]
    params: dict[str, str] = dict(request.query)
    if request.method == "POST":
        params |= {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    method = params.get("method", "")
    try:
        sim.check_request(params)
        biz = read_biz(params)
        if method == "alipay.trade.wap.pay":
            trade = sim.ledger.open_cashier(
                biz, params.get("notify_url", ""), params.get("return_url", "")
            )
            raise web.HTTPFound(f"/cashier/{trade.trade_no}")
        if method not in APIS:
            raise Refusal("isv.invalid-method", "不存在的方法名", code="40002")
        if method == "alipay.trade.query":
            return sim.answer(method, sim.ledger.query(biz))
        if method == "alipay.trade.close":
            return sim.answer(method, sim.ledger.close(biz))
        node, trade, moved = sim.ledger.refund(biz)
        if moved:
            # A refund is notified too: TRADE_SUCCESS while part is left, TRADE_CLOSED at zero.
            sim.notify(
                trade,
                refund_fee=yuan(trade.refunded_fen),
                gmt_refund=node["gmt_refund_pay"],
                out_biz_no=str(biz.get("out_request_no") or trade.out_trade_no),
            )
        return sim.answer(method, node)
    except Refusal as refusal:
        if method == "alipay.trade.wap.pay":
            return _page("支付宝", f"<p class=error>{html.escape(refusal.node['sub_msg'])}</p>")
        return sim.answer(method or "error", refusal.node)


@routes.get("/cashier/{trade_no}")
async def cashier(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    trade = _trade(sim, request.match_info["trade_no"])
    if trade is None:
        raise web.HTTPNotFound(text="交易不存在")
    sim.ledger.query({"out_trade_no": trade.out_trade_no})  # closes it if it has expired
    if trade.status.value != "WAIT_BUYER_PAY":
        return _page("支付宝收银台", f"<p class=error>交易状态：{trade.status.value}</p>")
    body = (
        f"<p class=subject>{html.escape(trade.subject)}</p>"
        f"<p class=amount>¥{yuan(trade.total_fen)}</p>"
        f"<form method=post action=/cashier/{trade.trade_no}/pay>"
        "<button type=submit>付款</button></form>"
    )
    return _page("支付宝收银台", body)


@routes.post("/cashier/{trade_no}/pay")
async def pay(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    try:
        trade = sim.ledger.pay(request.match_info["trade_no"])
    except Refusal as refusal:
        return _page("支付宝收银台", f"<p class=error>{html.escape(refusal.node['sub_msg'])}</p>")
    sim.notify(trade)
    target = sim.return_url(trade)
    if target is not None:
        raise web.HTTPFound(target)
    return _page("支付宝收银台", "<p class=done>支付成功</p>")


def _trade(sim: AlipaySimulator, trade_no: str) -> SimTrade | None:
    return next((t for t in sim.ledger.trades.values() if t.trade_no == trade_no), None)


def _page(title: str, body: str) -> web.Response:
    text = (
        "<!doctype html><html lang=zh-CN><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>{body}</html>"
    )
    return web.Response(text=text, content_type="text/html", charset="utf-8")
