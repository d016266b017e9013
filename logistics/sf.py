"""SfCourier: the courier port over SF Express's open platform (丰桥), async on aiohttp.

Bookings are idempotent by our order id: SF refuses a repeated ``orderId`` with 8016 (重复下单),
which we answer by reading the waybill already made (``EXP_RECE_SEARCH_ORDER_RESP``). The check
word only ever goes into the digest; nothing here logs a request body (it holds addresses).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp
import structlog

from logistics import sf_protocol as sf
from logistics.port import (
    Booking,
    CannotCancel,
    CourierRefused,
    CourierUnavailable,
    OrderNotFound,
    PickupOrder,
    RouteEvent,
)

_MAX_RESPONSE_BYTES = 1 << 20
# Gateway codes that mean "try again later"; the others mean our call or account is wrong.
_TRANSIENT_API_CODES = frozenset({sf.API_EXPIRED, "A1005", "A1009", sf.API_SYSTEM_ERROR})
# SF's guide: the header must name the charset (aiohttp's own form encoding leaves it out).
_FORM = {"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}
_CANNOT_SERVE = "3"  # filterResult: the address is outside SF's pickup area
_OUT_OF_AREA = "该地址暂不在顺丰上门取件范围内，请更换地址或到窗口办理。"

log = structlog.get_logger(__name__)


def milliseconds() -> str:
    return str(int(time.time() * 1000))


class SfCourier:
    """One SF customer account (partnerID + checkWord), sharing the app's aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        partner_id: str,
        check_word: str,
        monthly_card: str = "",
        timeout: float = 10.0,
        timestamp: Callable[[], str] = milliseconds,
    ) -> None:
        self._session = session
        self._url = base_url
        self._partner_id = partner_id
        self._check_word = check_word
        self._monthly_card = monthly_card
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._timestamp = timestamp

    def __repr__(self) -> str:
        return f"SfCourier(url={self._url!r}, partner_id={self._partner_id!r}, check_word='***')"

    async def book_pickup(self, order: PickupOrder) -> Booking:
        try:
            data = await self._call(sf.CREATE_ORDER, self._order_data(order))
        except CourierRefused as e:
            if e.code != sf.DUPLICATE_ORDER:
                raise
            log.info("sf_order_exists", order_id=order.order_id, action="reading its waybill")
            existing = await self._call(
                sf.SEARCH_ORDER,
                {"orderId": order.order_id, "searchType": "1", "language": "zh-CN"},
            )
            return Booking(order.order_id, _waybill(existing), existing=True)
        if str(data.get("filterResult", "")) == _CANNOT_SERVE:
            raise CourierRefused("filterResult=3", "address outside SF's area", _OUT_OF_AREA)
        return Booking(order.order_id, _waybill(data))

    async def cancel(self, order_id: str) -> None:
        body = {"orderId": order_id, "dealType": 2, "language": "zh-CN"}
        try:
            await self._call(sf.UPDATE_ORDER, body)
        except CourierRefused as e:
            if e.code == sf.ALREADY_CANCELLED:
                return
            if e.code == sf.ALREADY_COLLECTED:
                raise CannotCancel(e.code, e.detail) from None
            if e.code == sf.ORDER_NOT_FOUND:
                raise OrderNotFound(e.code, e.detail) from None
            raise

    async def routes(self, waybill_no: str) -> list[RouteEvent]:
        body = {
            "language": "zh-CN",
            "trackingType": "2",  # by waybill number
            "trackingNumber": [waybill_no],
            "methodType": "1",  # standard route query
        }
        data = await self._call(sf.SEARCH_ROUTES, body)
        events: list[RouteEvent] = []
        for resp in _list(data.get("routeResps")):
            mail_no = str(resp.get("mailNo", waybill_no))
            events.extend(_route_event(mail_no, route) for route in _list(resp.get("routes")))
        return sorted(events, key=lambda e: e.at)

    def _order_data(self, order: PickupOrder) -> dict[str, Any]:
        contacts = [
            {
                "contactType": contact_type,
                "contact": c.name,
                "mobile": c.mobile,
                "company": c.company,
                "country": "CN",
                "province": c.province,
                "city": c.city,
                "county": c.county,
                "address": c.address,
            }
            for contact_type, c in ((1, order.sender), (2, order.receiver))
        ]
        data: dict[str, Any] = {
            "language": "zh-CN",
            "orderId": order.order_id,
            "cargoDetails": [{"name": c.name, "count": c.count, "unit": "件"} for c in order.cargo],
            "contactInfoList": contacts,
            "expressTypeId": 1,  # 顺丰特快
            "payMethod": 1,  # 寄方付: the department pays
            "parcelQty": 1,
            "isDocall": 1,  # 通知收派员上门
            "sendStartTm": sf.sf_time(order.window.start),
            "pickupAppointEndtime": sf.sf_time(order.window.end),
            "remark": order.remark,
        }
        if self._monthly_card:
            data["monthlyCard"] = self._monthly_card
        return data

    async def _call(self, service_code: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        """The business ``msgData`` of a successful call; CourierRefused / CourierUnavailable."""
        msg_data = sf.dumps(body)
        timestamp = self._timestamp()
        form = {
            "partnerID": self._partner_id,
            "requestID": uuid.uuid4().hex,
            "serviceCode": service_code,
            "timestamp": timestamp,
            "msgData": msg_data,
            "msgDigest": sf.msg_digest(msg_data, timestamp, self._check_word),
        }
        try:
            async with self._session.post(
                self._url,
                data=urlencode(form).encode("ascii"),  # percent-encoded UTF-8
                headers=_FORM,
                timeout=self._timeout,
            ) as response:
                status = response.status
                raw = await _read_capped(response.content, _MAX_RESPONSE_BYTES)
        except (aiohttp.ClientError, TimeoutError) as e:
            what = "no answer in time" if isinstance(e, TimeoutError) else type(e).__name__
            raise CourierUnavailable(f"{service_code}: {what}") from None
        answer = _json_object(raw, f"{service_code}: HTTP {status}")
        api_code = str(answer.get("apiResultCode", ""))
        if api_code != sf.API_OK:
            error = str(answer.get("apiErrorMsg", ""))
            detail = f"{service_code}: {api_code} {error}"
            if api_code in _TRANSIENT_API_CODES or not api_code:
                raise CourierUnavailable(detail)
            # Our account or request is wrong.
            log.error("sf_call_refused", service=service_code, code=api_code, error=error)
            raise CourierRefused(api_code, detail)
        result = answer.get("apiResultData")
        data = _json_object(result.encode() if isinstance(result, str) else b"", service_code)
        if data.get("success") not in (True, "true"):
            code = str(data.get("errorCode", ""))
            raise CourierRefused(code, f"{service_code}: {data.get('errorMsg', '')}")
        msg = data.get("msgData")
        return msg if isinstance(msg, dict) else {}


async def _read_capped(stream: aiohttp.StreamReader, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise CourierUnavailable(f"response body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise CourierUnavailable(f"{what}: not a JSON object")
    return data


def _list(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _waybill(data: Mapping[str, Any]) -> str:
    for info in _list(data.get("waybillNoInfoList")):
        # waybillType 1 is the parent waybill; 2 a child, 3 a signed-return slip.
        if str(info.get("waybillType", "1")) == "1" and info.get("waybillNo"):
            return str(info["waybillNo"])
    raise CourierUnavailable("the answer names no waybill number")


def _route_event(mail_no: str, route: Mapping[str, Any]) -> RouteEvent:
    try:
        return sf.route_event(mail_no, route)
    except ValueError as e:
        raise CourierUnavailable(f"route of {mail_no}: {e}") from None
