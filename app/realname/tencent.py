"""TencentFaceIdVerifier: real-name verification over Tencent Cloud FaceID, async on aiohttp.

Why this provider: FaceID's ``IdCardVerification`` is a documented public API doing exactly the
two-factor check we need (name + citizen ID number against the public-security register), with
every Result code written down; Tencent publishes official open-source SDKs for it (whose
signing we match); and its TC3-HMAC-SHA256 signing is documented step by step with a worked
example, so our own signing is tested against Tencent's numbers, not against itself. We sign
and send ourselves rather than use the SDK because its transport blocks.

Only a well-formed documented answer is believed: anything else (no answer in time, a non-2xx
status, a body over 64 KB, HTML, JSON without ``Response.RequestId``, an undocumented Result,
any ``Response.Error``) raises VerifierUnavailable, which is never a match. Logs carry the ID
number masked and never the name (PIPL).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import structlog

from app.realname import faceid, tc3
from app.realname.port import (
    IdentityVerifier,
    Verification,
    VerifierUnavailable,
    mask_id_number,
)

MAX_RESPONSE_BYTES = 64 * 1024  # an answer is a few hundred bytes

log = structlog.get_logger(__name__)


class TencentFaceIdVerifier(IdentityVerifier):
    """One Tencent Cloud API key pair; shares the app's aiohttp session when given one."""

    def __init__(
        self,
        secret_id: str,
        secret_key: str,
        *,
        endpoint: str = faceid.DEFAULT_ENDPOINT,
        region: str = faceid.DEFAULT_REGION,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        url = urlsplit(endpoint)
        if url.scheme not in ("https", "http") or not url.netloc:
            raise ValueError(f"not an endpoint URL: {endpoint!r}")
        if not secret_id or not secret_key:
            raise ValueError("a SecretId and a SecretKey are both needed")
        self._url = f"{url.scheme}://{url.netloc}/"
        self._host = url.netloc  # signed as sent, port included
        self._secret_id = secret_id
        self._secret_key = secret_key
        self._region = region
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock

    def __repr__(self) -> str:
        return f"TencentFaceIdVerifier(url={self._url!r}, secret_id={self._secret_id!r}, ***)"

    async def verify(self, name: str, id_number: str) -> Verification:
        name, id_number = name.strip(), id_number.strip().upper()
        if not name or not id_number:
            raise ValueError("a name and an ID number are both needed")
        masked = mask_id_number(id_number)
        node = await self._call({"IdCard": id_number, "Name": name}, id_number)
        request_id = node["RequestId"]
        result, description = node.get("Result"), node.get("Description", "")
        if not isinstance(result, str) or not isinstance(description, str):
            raise VerifierUnavailable(f"{faceid.ACTION}: no Result", request_id=request_id)
        if result in faceid.UNAVAILABLE_RESULTS:
            log.warning("faceid_no_verdict", result=result, id_number=masked, request_id=request_id)
            raise VerifierUnavailable(
                f"{faceid.ACTION}: Result {result} {description}",
                faceid.UNAVAILABLE_RESULTS[result],
                code=result,
                request_id=request_id,
            )
        if result not in faceid.VERDICTS:
            raise VerifierUnavailable(
                f"{faceid.ACTION}: undocumented Result {result[:16]!r}", request_id=request_id
            )
        verdict, reason = faceid.VERDICTS[result]
        log.info(
            "faceid_checked",
            verdict=verdict.value,
            reason=reason.value,
            id_number=masked,
            request_id=request_id,
        )
        return Verification(verdict, reason, request_id, description)

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(self, params: dict[str, str], id_number: str) -> dict[str, Any]:
        """The ``Response`` node of a successful call, with a RequestId; else unavailable."""
        payload = json.dumps(params).encode("utf-8")  # \\u escapes, as the SDK sends
        headers = tc3.signed_json_headers(
            secret_id=self._secret_id,
            secret_key=self._secret_key,
            service=faceid.SERVICE,
            host=self._host,
            action=faceid.ACTION,
            version=faceid.VERSION,
            region=self._region,
            payload=payload,
            timestamp=int(self._clock()),
        )
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.post(
                self._url, data=payload, headers=headers, timeout=self._timeout
            ) as response:
                status = response.status
                raw = await _read_capped(response.content, MAX_RESPONSE_BYTES)
        except (aiohttp.ClientError, TimeoutError) as e:
            what = "no answer in time" if isinstance(e, TimeoutError) else type(e).__name__
            log.warning("faceid_unreachable", reason=what)
            raise VerifierUnavailable(f"{faceid.ACTION}: {what}") from None
        node = _response_node(raw, status)
        error = node.get("Error")
        if error is not None:
            code, message = _error(error)
            message = message.replace(id_number, mask_id_number(id_number))[:200]
            report = log.error if faceid.needs_operator(code) else log.warning
            report("faceid_error", code=code, message=message, request_id=node["RequestId"])
            raise VerifierUnavailable(
                f"{faceid.ACTION}: {code} {message}", code=code, request_id=node["RequestId"]
            )
        return node


async def _read_capped(stream: aiohttp.StreamReader, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream.iter_chunked(16 * 1024):
        size += len(chunk)
        if size > limit:
            raise VerifierUnavailable(f"{faceid.ACTION}: answer over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _response_node(raw: bytes, status: int) -> dict[str, Any]:
    if not 200 <= status < 300:
        raise VerifierUnavailable(f"{faceid.ACTION}: HTTP {status}")
    try:
        data = json.loads(raw)
    except ValueError:  # UnicodeDecodeError included
        data = None
    node = data.get("Response") if isinstance(data, dict) else None
    if not isinstance(node, dict):
        raise VerifierUnavailable(f"{faceid.ACTION}: not an API 3.0 answer (HTTP {status})")
    request_id = node.get("RequestId")
    if not isinstance(request_id, str) or not request_id:
        raise VerifierUnavailable(f"{faceid.ACTION}: answer without a RequestId")
    return node


def _error(error: object) -> tuple[str, str]:
    code = error.get("Code") if isinstance(error, dict) else None
    if not isinstance(code, str) or not code:
        raise VerifierUnavailable(f"{faceid.ACTION}: an error without a code")
    message = error.get("Message", "") if isinstance(error, dict) else ""
    return code, str(message)
