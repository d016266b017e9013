"""``POST /std/service``: SF's gateway as the simulator plays it, checking what SF checks."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from logistics import sf_protocol as sf
from logistics.simulator.simulator import SF_SIMULATOR, SfSimulator
from logistics.simulator.state import Order

routes = web.RouteTableDef()
_REQUIRED = ("partnerID", "requestID", "serviceCode", "timestamp", "msgData", "msgDigest")
# SF answers A1002 (请求时效已过期) to a stale timestamp; its window is not published, so the
# simulator takes ten minutes either way.
MAX_SKEW_MS = 10 * 60 * 1000


class BusinessError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _api(code: str, message: str = "", data: dict[str, Any] | None = None) -> web.Response:
    body = {
        "apiErrorMsg": message,
        "apiResponseID": uuid.uuid4().hex.upper(),
        "apiResultCode": code,
        "apiResultData": None if data is None else sf.dumps(data),
    }
    return web.json_response(body, dumps=sf.dumps)


def _business(msg_data: dict[str, Any] | None) -> dict[str, Any]:
    return {"success": True, "errorCode": sf.BUSINESS_OK, "errorMsg": None, "msgData": msg_data}


def _waybills(order: Order) -> dict[str, Any]:
    return {
        "orderId": order.order_id,
        "waybillNoInfoList": [{"waybillType": 1, "waybillNo": order.waybill_no}],
        "filterResult": 2,  # 可收派
    }


@routes.post("/std/service")
async def service(request: web.Request) -> web.Response:
    simulator = request.app[SF_SIMULATOR]
    simulator.state.content_type = request.headers.get("Content-Type", "")
    form = await request.post()
    fields = {name: form.get(name) for name in _REQUIRED}
    if not all(isinstance(v, str) and v for v in fields.values()):
        return _api(sf.API_MISSING_PARAMETER, "必传参数不可为空")
    values = {k: str(v) for k, v in fields.items()}
    now_ms = int(simulator.state.clock().timestamp() * 1000)
    if not values["timestamp"].isdigit() or abs(int(values["timestamp"]) - now_ms) > MAX_SKEW_MS:
        return _api(sf.API_EXPIRED, "请求时效已过期")
    if values["partnerID"] != simulator.partner_id:
        return _api(sf.API_NO_PERMISSION, "无对应服务权限")
    if not sf.digest_matches(
        values["msgData"], values["timestamp"], simulator.check_word, values["msgDigest"]
    ):
        return _api(sf.API_BAD_DIGEST, "数字签名无效")
    simulator.state.calls.append(values["serviceCode"])
    handler = _SERVICES.get(values["serviceCode"])
    if handler is None:
        return _api(sf.API_NO_PERMISSION, "无对应服务权限")
    try:
        data = json.loads(values["msgData"])
        if not isinstance(data, dict):
            raise ValueError("msgData is not an object")
    except ValueError:
        return _api(sf.API_OK, data={**_failure("1010", "报文格式错误")})
    try:
        result = handler(simulator, data)
    except BusinessError as e:
        return _api(sf.API_OK, data=_failure(e.code, e.message))
    return _api(sf.API_OK, data=_business(result))


def _failure(code: str, message: str) -> dict[str, Any]:
    return {"success": False, "errorCode": code, "errorMsg": message, "msgData": None}


def _order(simulator: SfSimulator, data: dict[str, Any]) -> Order:
    order = simulator.state.orders.get(str(data.get("orderId", "")))
    if order is None:
        raise BusinessError(sf.ORDER_NOT_FOUND, "未获取到订单信息")
    return order


def create_order(simulator: SfSimulator, data: dict[str, Any]) -> dict[str, Any]:
    order_id = str(data.get("orderId", ""))
    if not order_id:
        raise BusinessError("1010", "orderId 不能为空")
    if order_id in simulator.state.orders:
        raise BusinessError(sf.DUPLICATE_ORDER, "重复下单")
    contacts = data.get("contactInfoList")
    if not isinstance(contacts, list) or {c.get("contactType") for c in contacts} != {1, 2}:
        raise BusinessError("1010", "寄件方和收件方信息不完整")
    sender = next(c for c in contacts if c.get("contactType") == 1)
    if sender.get("city") in simulator.state.unserved_cities:
        # SF still answers success, with filterResult 3 (不可收派) and no waybill.
        return {"orderId": order_id, "waybillNoInfoList": [], "filterResult": 3}
    return _waybills(simulator.state.create(order_id, data))


def search_order(simulator: SfSimulator, data: dict[str, Any]) -> dict[str, Any]:
    return _waybills(_order(simulator, data))


def update_order(simulator: SfSimulator, data: dict[str, Any]) -> dict[str, Any]:
    order = _order(simulator, data)
    if str(data.get("dealType", "")) != "2":
        raise BusinessError("1010", "模拟器只支持取消订单（dealType=2）")
    if order.cancelled:
        raise BusinessError(sf.ALREADY_CANCELLED, "已消单")
    if order.collected:
        raise BusinessError(sf.ALREADY_COLLECTED, "订单已揽收，不能取消")
    order.cancelled = True
    return {"orderId": order.order_id, "resStatus": 2}


def search_routes(simulator: SfSimulator, data: dict[str, Any]) -> dict[str, Any]:
    numbers = data.get("trackingNumber")
    if not isinstance(numbers, list) or not 0 < len(numbers) <= 10:
        raise BusinessError("1010", "trackingNumber 须为1至10个单号")
    by_order = str(data.get("trackingType", "1")) == "1"
    resps = []
    for number in numbers:
        table = simulator.state.orders if by_order else simulator.state.by_waybill
        order = table.get(str(number))
        if order is not None:
            resps.append(
                {"mailNo": order.waybill_no, "routes": [r.as_query() for r in order.routes]}
            )
    return {"routeResps": resps}


_SERVICES = {
    sf.CREATE_ORDER: create_order,
    sf.SEARCH_ORDER: search_order,
    sf.UPDATE_ORDER: update_order,
    sf.SEARCH_ROUTES: search_routes,
}
