"""AlipayGateway: the payment port over Alipay's OpenAPI gateway (mobile-web payment).

alipay-sdk-python builds and signs each request (its pure-Python RSA runs in a thread, off the
event loop). The transport is ours, over the app's aiohttp session: the SDK's own is blocking
and ignores any port in the gateway URL (``WebUtils.get_http_connection``). Every answer is
verified against Alipay's public key before it is believed.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.domain.AlipayTradeCloseModel import AlipayTradeCloseModel
from alipay.aop.api.domain.AlipayTradeQueryModel import AlipayTradeQueryModel
from alipay.aop.api.domain.AlipayTradeRefundModel import AlipayTradeRefundModel
from alipay.aop.api.domain.AlipayTradeWapPayModel import AlipayTradeWapPayModel
from alipay.aop.api.request.AlipayTradeCloseRequest import AlipayTradeCloseRequest
from alipay.aop.api.request.AlipayTradeQueryRequest import AlipayTradeQueryRequest
from alipay.aop.api.request.AlipayTradeRefundRequest import AlipayTradeRefundRequest
from alipay.aop.api.request.AlipayTradeWapPayRequest import AlipayTradeWapPayRequest
from cryptography.hazmat.primitives.asymmetric import rsa

from payments.port import (
    GatewayRefused,
    GatewayUnavailable,
    PaymentOrder,
    RefundConflict,
    RefundResult,
    RefundTooLarge,
    Trade,
    TradeNotFound,
    TradeStatus,
    fen,
    yuan,
)
from payments.signing import pem_body, private_key_pem, public_key_pem, rsa2_verify

GATEWAY_URL = "https://openapi.alipay.com/gateway.do"
SANDBOX_GATEWAY_URL = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
BEIJING = timezone(timedelta(hours=8))  # Alipay's times are Beijing time; China has no DST
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
SUCCESS = "10000"
_MAX_RESPONSE_BYTES = 1 << 20
_REFUSALS: Mapping[str, type[GatewayRefused]] = {
    "ACQ.TRADE_NOT_EXIST": TradeNotFound,
    "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL": RefundTooLarge,
    "ACQ.DISCORDANT_REPEAT_REQUEST": RefundConflict,
}
_UNKNOWN_OUTCOME = frozenset({"ACQ.SYSTEM_ERROR", "isp.unknow-error", "aop.ACQ.SYSTEM_ERROR"})


def beijing_time(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime(TIME_FORMAT)


class AlipayGateway:
    """One Alipay application (app_id) collecting for one seller, on the app's aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        gateway_url: str,
        app_id: str,
        app_private_key: rsa.RSAPrivateKey,
        alipay_public_key: rsa.RSAPublicKey,
        timeout: float = 15.0,
    ) -> None:
        self._session = session
        self._gateway_url = gateway_url
        self._app_id = app_id
        self._alipay_public_key = alipay_public_key
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        config = AlipayClientConfig()
        config.server_url = gateway_url
        config.app_id = app_id
        config.sign_type = "RSA2"
        config.charset = "utf-8"
        # The SDK wants the bare base64 of a PKCS#1 private key and of an SPKI public key.
        config.app_private_key = pem_body(private_key_pem(app_private_key))
        config.alipay_public_key = pem_body(public_key_pem(alipay_public_key))
        self._client = DefaultAlipayClient(alipay_client_config=config)

    def __repr__(self) -> str:
        return f"AlipayGateway(gateway_url={self._gateway_url!r}, app_id={self._app_id!r})"

    async def create_payment(self, order: PaymentOrder, *, notify_url: str, return_url: str) -> str:
        """The signed alipay.trade.wap.pay URL; the trade exists once the payer opens it."""
        model = AlipayTradeWapPayModel()
        model.out_trade_no = order.out_trade_no
        model.total_amount = yuan(order.amount_fen)
        model.subject = order.subject
        model.product_code = "QUICK_WAP_WAY"
        model.time_expire = beijing_time(order.expires_at)
        request = AlipayTradeWapPayRequest(biz_model=model)
        request.notify_url = notify_url
        request.return_url = return_url
        url: str = await asyncio.to_thread(self._client.page_execute, request, "GET")
        return url

    async def query(self, out_trade_no: str) -> Trade:
        model = AlipayTradeQueryModel()
        model.out_trade_no = out_trade_no
        answer = await self._call(AlipayTradeQueryRequest(biz_model=model), "alipay.trade.query")
        try:
            paid_at = answer.get("send_pay_date")
            return Trade(
                out_trade_no=str(answer["out_trade_no"]),
                trade_no=str(answer.get("trade_no", "")),
                status=TradeStatus(answer["trade_status"]),
                total_fen=fen(str(answer["total_amount"])),
                paid_at=(
                    datetime.strptime(paid_at, TIME_FORMAT).replace(tzinfo=BEIJING)
                    if isinstance(paid_at, str) and paid_at
                    else None
                ),
            )
        except (KeyError, ValueError) as e:
            raise GatewayUnavailable(f"alipay.trade.query: unreadable answer ({e})") from None

    async def close(self, out_trade_no: str) -> None:
        """Close an unpaid trade; TradeNotFound if the cashier was never opened (the URL then
        stays payable until the order's ``expires_at``)."""
        model = AlipayTradeCloseModel()
        model.out_trade_no = out_trade_no
        await self._call(AlipayTradeCloseRequest(biz_model=model), "alipay.trade.close")

    async def refund(
        self, out_trade_no: str, *, amount_fen: int, out_request_no: str, reason: str
    ) -> RefundResult:
        if amount_fen <= 0:
            raise ValueError("amount_fen must be positive")
        model = AlipayTradeRefundModel()
        model.out_trade_no = out_trade_no
        model.refund_amount = yuan(amount_fen)
        model.out_request_no = out_request_no
        model.refund_reason = reason
        answer = await self._call(AlipayTradeRefundRequest(biz_model=model), "alipay.trade.refund")
        try:
            return RefundResult(
                out_trade_no=out_trade_no,
                out_request_no=out_request_no,
                refunded_fen=fen(str(answer["refund_fee"])),
                fund_change=answer.get("fund_change") == "Y",
            )
        except (KeyError, ValueError) as e:
            raise GatewayUnavailable(f"alipay.trade.refund: unreadable answer ({e})") from None

    async def _call(self, request: Any, method: str) -> Mapping[str, Any]:
        body: str = await asyncio.to_thread(self._client.sdk_execute, request)
        try:
            async with self._session.post(
                self._gateway_url,
                data=body.encode("utf-8"),
                headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
                timeout=self._timeout,
            ) as response:
                status = response.status
                raw = await response.content.read(_MAX_RESPONSE_BYTES + 1)
        except TimeoutError:
            raise GatewayUnavailable(f"{method}: no answer from Alipay in time") from None
        except aiohttp.ClientError as e:
            raise GatewayUnavailable(f"{method}: {type(e).__name__}: {e}") from None
        if status != 200 or len(raw) > _MAX_RESPONSE_BYTES:
            raise GatewayUnavailable(f"{method}: HTTP {status}")
        return self._read(method, raw.decode("utf-8", errors="replace"))

    def _read(self, method: str, text: str) -> Mapping[str, Any]:
        """The response node, believed only if signed by Alipay (or an unsigned refusal)."""
        node_name = method.replace(".", "_") + "_response"
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise GatewayUnavailable(f"{method}: not a JSON object")
        if node_name not in document and "error_response" in document:
            node_name = "error_response"
        node = document.get(node_name)
        if not isinstance(node, dict):
            raise GatewayUnavailable(f"{method}: no {node_name}")
        sign = document.get("sign")
        code = str(node.get("code", ""))
        if isinstance(sign, str) and sign:
            if not rsa2_verify(self._alipay_public_key, _raw_node(text, node_name), sign):
                raise GatewayUnavailable(f"{method}: the answer's signature is not Alipay's")
        elif code == SUCCESS:
            raise GatewayUnavailable(f"{method}: an unsigned success is not believed")
        if code == SUCCESS:
            return node
        sub_code = str(node.get("sub_code", ""))
        message = str(node.get("sub_msg") or node.get("msg") or "")
        if code == "20000" or sub_code in _UNKNOWN_OUTCOME:
            raise GatewayUnavailable(f"{method}: {sub_code or code}: {message}")
        raise _REFUSALS.get(sub_code, GatewayRefused)(sub_code or code, message)


def _raw_node(text: str, node_name: str) -> str:
    """The response node exactly as sent: Alipay signs those characters, not a re-encoding."""
    match = re.search(r'"' + re.escape(node_name) + r'"\s*:\s*', text)
    if match is None:
        return ""
    try:
        _, end = json.JSONDecoder().raw_decode(text, match.end())
    except ValueError:
        return ""
    return text[match.end() : end]
