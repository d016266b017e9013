"""The local FaceID: TC3 signatures checked, IdCardVerification answered from a register.

Checks in Tencent's order of concern: the Authorization header, the timestamp (more than five
minutes off: AuthFailure.SignatureExpire), the SecretId, the signature over the headers it names
and the body, then X-TC-Action and X-TC-Version, then the parameters. Faults are switched on by
tests (``fault``, ``forced_result``); ``calls`` counts every request received.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping
from enum import StrEnum

from aiohttp import web

from app.realname import faceid, tc3
from app.realname.simulator.register import DEMO_REGISTER, valid_id_number, valid_name

MAX_SKEW_SECONDS = 300  # Tencent: "如果与服务器时间相差超过5分钟，会引起签名过期错误"
MAX_REQUEST_BYTES = 64 * 1024


class Fault(StrEnum):
    """What the local FaceID does instead of answering properly."""

    INTERNAL_ERROR = "internal_error"  # Response.Error InternalError
    RATE_LIMITED = "rate_limited"  # Response.Error RequestLimitExceeded
    SLOW = "slow"  # no answer for ``slow_seconds`` (or until released)
    GARBAGE = "garbage"  # an HTML page with status 200
    BAD_GATEWAY = "bad_gateway"  # status 502 from the load balancer
    MALFORMED = "malformed"  # JSON with a numeric Result and no RequestId
    OVERSIZED = "oversized"  # a well-formed answer of 100 KB


class FaceIdSimulator:
    """Tencent Cloud accounts (SecretId -> SecretKey) and a register (ID number -> name)."""

    def __init__(
        self,
        *,
        credentials: Mapping[str, str],
        register: Mapping[str, str] = DEMO_REGISTER,
        clock: Callable[[], float] = time.time,
        slow_seconds: float = 30.0,
    ) -> None:
        self.credentials = dict(credentials)
        self.register = dict(register)
        self._owners = self.register
        self.clock = clock
        self.slow_seconds = slow_seconds
        self.fault: Fault | None = None
        self.forced_result: str | None = None  # answer this Result to every valid call
        self.calls = 0  # every request received, refused or not
        self.checks: list[tuple[str, str]] = []  # (name, ID number) of each call given a Result
        self.errors: list[str] = []  # the error code of each refused call
        self._released = asyncio.Event()

    def __repr__(self) -> str:
        return f"FaceIdSimulator(accounts={list(self.credentials)!r}, people={len(self.register)})"

    def release(self) -> None:
        """Let every hanging call go (at shutdown)."""
        self._released.set()

    def result_for(self, name: str, number: str) -> str:
        """What the register says of this pair."""
        if not valid_id_number(number):
            return faceid.RESULT_INVALID_ID
        if not valid_name(name):
            return faceid.RESULT_INVALID_NAME
        owner = self._owners.get(number)
        if owner is None:
            return faceid.RESULT_NO_RECORD
        return faceid.RESULT_MATCH if owner == name else faceid.RESULT_MISMATCH

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        request_id = str(uuid.uuid4())
        if self.fault is Fault.SLOW:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), self.slow_seconds)
        if canned := self._canned(request_id):
            return canned
        payload = await request.read()
        refusal = self._authenticate(request, payload) or self._route(request) or self._refusal()
        params = _params(payload) if refusal is None else None
        if refusal is None and params is None:
            refusal = (faceid.INVALID_PARAMETER, "参数错误：需要字符串 IdCard 和 Name。")
        if refusal is not None or params is None:
            code, message = refusal or (faceid.INVALID_PARAMETER, "")
            self.errors.append(code)
            error = {"Error": {"Code": code, "Message": message}, "RequestId": request_id}
            return web.json_response({"Response": error})
        name, number = params
        self.checks.append((name, number))
        result = self.result_for(name, number)
        if self.forced_result is not None:
            result = self.forced_result
        answer = {"Result": result, "Description": faceid.DESCRIPTIONS.get(result, "")}
        return web.json_response({"Response": answer | {"RequestId": request_id}})

    def _canned(self, request_id: str) -> web.Response | None:
        page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
        if self.fault is Fault.GARBAGE:
            return web.Response(text=page, content_type="text/html")
        if self.fault is Fault.BAD_GATEWAY:
            return web.Response(status=502, text=page, content_type="text/html")
        if self.fault is Fault.MALFORMED:
            return web.json_response({"Response": {"Result": 0}})
        if self.fault is Fault.OVERSIZED:
            answer = {"Result": "0", "Description": "一" * 40_000, "RequestId": request_id}
            return web.json_response({"Response": answer})
        return None

    def _authenticate(self, request: web.Request, payload: bytes) -> tuple[str, str] | None:
        try:
            auth = tc3.parse_authorization(request.headers.get("Authorization", ""))
            timestamp = int(request.headers.get("X-TC-Timestamp", ""))
        except ValueError:
            return faceid.INVALID_AUTHORIZATION, "Authorization 或 X-TC-Timestamp 格式不正确。"
        if abs(self.clock() - timestamp) > MAX_SKEW_SECONDS:
            return faceid.SIGNATURE_EXPIRE, "签名过期。Timestamp 与服务器时间相差超过五分钟。"
        if auth.service != faceid.SERVICE or auth.date != tc3.utc_date(timestamp):
            return faceid.INVALID_AUTHORIZATION, "Credential 中的日期或服务名不正确。"
        if not set(tc3.SIGNED_HEADERS) <= set(auth.signed_headers):
            return faceid.INVALID_AUTHORIZATION, "SignedHeaders 须包含 content-type 和 host。"
        secret_key = self.credentials.get(auth.secret_id)
        if secret_key is None:
            return faceid.SECRET_ID_NOT_FOUND, "密钥不存在。"
        if not all(name in request.headers for name in auth.signed_headers):
            return faceid.SIGNATURE_FAILURE, "签名计算错误：缺少参与签名的头部。"
        canonical = tc3.canonical_request(
            method=request.method,
            headers=dict(request.headers),
            signed_headers=auth.signed_headers,
            payload=payload,
            query=request.query_string,
        )
        expected = tc3.signature(secret_key, timestamp, auth.service, canonical)
        if not hmac.compare_digest(expected, auth.signature):
            return faceid.SIGNATURE_FAILURE, "请求签名验证失败，请检查您的签名计算是否正确。"
        return None

    def _refusal(self) -> tuple[str, str] | None:
        if self.fault is Fault.INTERNAL_ERROR:
            return faceid.INTERNAL_ERROR, "内部错误。"
        if self.fault is Fault.RATE_LIMITED:
            return faceid.REQUEST_LIMIT_EXCEEDED, "请求的次数超过了频率限制。"
        return None

    def _route(self, request: web.Request) -> tuple[str, str] | None:
        if request.headers.get("X-TC-Action") != faceid.ACTION:
            return faceid.INVALID_ACTION, "接口不存在。"
        if request.headers.get("X-TC-Version") != faceid.VERSION:
            return faceid.NO_SUCH_VERSION, "接口版本不存在。"
        return None


def _params(payload: bytes) -> tuple[str, str] | None:
    try:
        body = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    name, number = body.get("Name"), body.get("IdCard")
    if not isinstance(name, str) or not isinstance(number, str):
        return None
    return name, number


FACEID_SIMULATOR = web.AppKey("faceid_simulator", FaceIdSimulator)
routes = web.RouteTableDef()


@routes.post("/")
async def api(request: web.Request) -> web.Response:
    return await request.app[FACEID_SIMULATOR].handle(request)
