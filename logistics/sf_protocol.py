"""SF Express open platform (丰桥) wire rules: the adapter, the push check, the simulator.

Every call is a form POST (``application/x-www-form-urlencoded;charset=UTF-8``) of ``partnerID``,
``requestID``, ``serviceCode``, ``timestamp`` (milliseconds), ``msgData`` (JSON) and
``msgDigest``. The digest, as SF's signing guide gives it in Java::

    base64(md5(URLEncoder.encode(msgData + timestamp + checkWord, "UTF-8")))

``URLEncoder`` keeps ``A-Z a-z 0-9 . - * _``, turns a space into ``+`` and percent-encodes
everything else from its UTF-8 bytes with upper-case hex; the md5 is the raw 16 bytes. The guide's
own example (``{"language":"zh-CN","orderId":"QIAO-20200618-004"}``, ``12312334453453``,
``fjcg5PGKaNpPSHFAZ4QsCOkV71R3zVci`` -> ``IIKJtuLVzoFTu4kHI8M8vA==``) is a unit test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote_plus

from logistics.port import RouteEvent, Stage

SANDBOX_URL = "https://sfapi-sbox.sf-express.com/std/service"
PRODUCTION_URL = "https://bspgw.sf-express.com/std/service"

CREATE_ORDER = "EXP_RECE_CREATE_ORDER"
SEARCH_ORDER = "EXP_RECE_SEARCH_ORDER_RESP"  # 订单结果查询: the waybill of a booked orderId
UPDATE_ORDER = "EXP_RECE_UPDATE_ORDER"  # dealType 2 cancels
SEARCH_ROUTES = "EXP_RECE_SEARCH_ROUTES"
ROUTE_PUSH = "RoutePushService"

# apiResultCode: the gateway's verdict on the call itself (统一接入平台).
API_OK = "A1000"
API_MISSING_PARAMETER = "A1001"
API_EXPIRED = "A1002"
API_NO_PERMISSION = "A1004"
API_BAD_DIGEST = "A1006"
API_SYSTEM_ERROR = "A1099"
# Business errorCode inside apiResultData.
BUSINESS_OK = "S0000"
DUPLICATE_ORDER = "8016"  # 重复下单
ORDER_NOT_FOUND = "8018"  # 未获取到订单信息
ALREADY_CANCELLED = "8037"  # 已消单
ALREADY_COLLECTED = "8252"  # 订单已揽收，不能取消 (as our simulator answers)

CHINA = timezone(timedelta(hours=8))
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# Route opCodes (路由操作码) this service acts on; everything else is shown as it comes.
OP_STAGES: dict[str, Stage] = {
    "50": Stage.COLLECTED,  # 顺丰已收取快件
    "54": Stage.COLLECTED,  # 上门收件
    "30": Stage.IN_TRANSIT,  # 快件在【...】已装车，准备发往下一站
    "31": Stage.IN_TRANSIT,  # 快件到达【...】
    "36": Stage.IN_TRANSIT,
    "44": Stage.OUT_FOR_DELIVERY,  # 正在派送途中
    "204": Stage.OUT_FOR_DELIVERY,
    "80": Stage.DELIVERED,  # 已签收
    "8000": Stage.DELIVERED,
    "70": Stage.FAILED,  # 派送不成功
    "648": Stage.FAILED,  # 退回
}


def stage_of(op_code: str) -> Stage:
    return OP_STAGES.get(op_code, Stage.OTHER)


def java_url_encode(text: str) -> str:
    """``java.net.URLEncoder.encode(text, "UTF-8")``: Python keeps ``~``, Java encodes it."""
    return quote_plus(text, safe="*").replace("~", "%7E")


def msg_digest(msg_data: str, timestamp: str, check_word: str) -> str:
    encoded = java_url_encode(msg_data + timestamp + check_word).encode("ascii")
    return base64.b64encode(hashlib.md5(encoded).digest()).decode("ascii")  # noqa: S324 - SF's rule


def digest_matches(msg_data: str, timestamp: str, check_word: str, digest: str) -> bool:
    """Constant-time comparison of a received ``msgDigest``."""
    expected = msg_digest(msg_data, timestamp, check_word)
    return hmac.compare_digest(expected.encode(), digest.encode("utf-8", "replace"))


def dumps(data: Any) -> str:
    """JSON as SF receives it: compact, UTF-8 kept (the digest covers these exact characters)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def sf_time(moment: datetime) -> str:
    """A moment as SF writes times: Beijing wall time, ``YYYY-MM-DD HH:MM:SS``."""
    return moment.astimezone(CHINA).strftime(TIME_FORMAT)


def parse_sf_time(text: str) -> datetime:
    """SF's Beijing wall time as an aware datetime; ValueError if it is not one."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=CHINA)


def route_event(mail_no: str, route: Mapping[str, Any]) -> RouteEvent:
    """One SF route (query answer or push) as a RouteEvent; ValueError if it is unreadable."""
    op_code = str(route.get("opCode", ""))
    if not mail_no or not op_code:
        raise ValueError("a route lacks its waybill number or opCode")
    return RouteEvent(
        waybill_no=mail_no,
        at=parse_sf_time(str(route.get("acceptTime", ""))),
        op_code=op_code,
        stage=stage_of(op_code),
        place=str(route.get("acceptAddress", "")),
        remark=str(route.get("remark", "")),
        order_id=str(route.get("orderid", "")),
        event_id=str(route.get("id", "")),
    )
