"""How WeChat delivers a user's message to the account's callback URL, and reads the reply.

Per mode: plain sends the XML signed in the query; safe sends ``<xml><ToUserName/><Encrypt/>``
with ``encrypt_type=aes&msg_signature``; compatible sends the plain fields and ``Encrypt``.

Retries: "微信服务器在五秒内收不到响应会断掉连接，并且重新发起请求，总共重试三次" (公众号文档,
接收普通消息). Observed behaviour is three requests in all, the first and two retries (WeRoBot
issue #801: "微信重发了两次，所以才会执行了三次"), so a push makes at most ``attempts=3``
identical requests, 5 s each, and stops at the first 2xx.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import aiohttp

from bot.crypto import MessageCrypto, signature
from bot.errors import WeChatError
from bot.simulator.state import ACCOUNT_ID, Clock
from bot.wire import XmlFields, cdata, parse_xml

Mode = Literal["plain", "compatible", "safe"]
MODES: tuple[Mode, ...] = ("plain", "compatible", "safe")
PUSH_TIMEOUT = 5.0
PUSH_ATTEMPTS = 3
NUMERIC_FIELDS = frozenset({"CreateTime", "MsgId", "MsgID"})


@dataclass(frozen=True)
class PushResult:
    """The outcome of one push: requests made, last HTTP status, the parsed passive reply."""

    attempts: int
    status: int | None
    reply: XmlFields | None
    elapsed: float
    msg_id: str | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.error is None


class ReplyRejected(Exception):
    """The account answered 2xx with something WeChat would not show the user."""


def inner_xml(fields: Mapping[str, str]) -> str:
    """The message XML as WeChat writes it: numbers bare, text in CDATA, in the given order."""
    parts = [
        f"<{name}>{value if name in NUMERIC_FIELDS else cdata(value)}</{name}>"
        for name, value in fields.items()
    ]
    return "<xml>" + "".join(parts) + "</xml>"


class Pusher:
    """POSTs pushes to the callback URL with WeChat's signing, encryption, timeout and retries."""

    def __init__(
        self,
        *,
        crypto: MessageCrypto,
        token: str,
        callback_url: str,
        mode: Mode,
        clock: Clock,
        timeout: float = PUSH_TIMEOUT,
        attempts: int = PUSH_ATTEMPTS,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode is one of {MODES}, not {mode!r}")
        self.crypto = crypto
        self._token = token
        self.callback_url = callback_url
        self.mode: Mode = mode
        self._clock = clock
        self.timeout = timeout
        self.attempts = attempts
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def request(self, xml: str, openid: str) -> tuple[dict[str, str], str]:
        """The query string and body of a push of ``xml`` from ``openid``."""
        timestamp = str(int(self._clock().timestamp()))
        nonce = str(secrets.randbelow(10**10))
        query = {
            "signature": signature(self._token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": openid,
        }
        if self.mode == "plain":
            return query, xml
        body, msg_signature = self.crypto.encrypt_push(
            xml, nonce=nonce, timestamp=timestamp, compatible=self.mode == "compatible"
        )
        return {**query, "encrypt_type": "aes", "msg_signature": msg_signature}, body

    async def deliver(self, xml: str, *, openid: str, msg_id: str | None) -> PushResult:
        """Push until a 2xx (at most ``attempts`` identical requests) and read the reply."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        query, body = self.request(xml, openid)
        started = time.monotonic()
        status: int | None = None
        error = "no attempt made"
        attempts = 0
        answer = b""
        for attempts in range(1, self.attempts + 1):  # noqa: B007 - attempts is reported
            try:
                async with self._session.post(
                    self.callback_url,
                    params=query,
                    data=body.encode("utf-8"),
                    headers={"Content-Type": "text/xml; charset=utf-8"},
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                ) as response:
                    status = response.status
                    answer = await response.read()
            except TimeoutError:
                status, error = None, f"no response within {self.timeout:g} s"
                continue
            except aiohttp.ClientError as e:
                status, error = None, f"{type(e).__name__}: {e}"
                continue
            if 200 <= status < 300:
                break
            error = f"HTTP {status}"
        else:
            return PushResult(attempts, status, None, time.monotonic() - started, msg_id, error)
        elapsed = time.monotonic() - started
        try:
            reply = self.read_reply(answer, openid)
        except ReplyRejected as e:
            return PushResult(attempts, status, None, elapsed, msg_id, str(e))
        return PushResult(attempts, status, reply, elapsed, msg_id)

    def read_reply(self, answer: bytes, openid: str) -> XmlFields | None:
        """The passive reply as fields, None for "" or "success"; ReplyRejected if unusable."""
        text = answer.strip()
        if text in (b"", b"success"):
            return None
        try:
            if self.mode != "plain" and b"<Encrypt>" in text:
                inner = self.crypto.decrypt_reply(text.decode("utf-8"))
            elif self.mode == "safe":
                raise ReplyRejected("safe mode: the reply must be encrypted")
            else:
                inner = text.decode("utf-8")
            reply = parse_xml(inner.encode("utf-8"))
        except (WeChatError, UnicodeDecodeError, ValueError) as e:
            raise ReplyRejected(f"unreadable reply: {type(e).__name__}") from e
        if reply.get("ToUserName") != openid or reply.get("FromUserName") != ACCOUNT_ID:
            raise ReplyRejected("the reply is not from the account to the user who wrote")
        if not reply.get("MsgType"):
            raise ReplyRejected("the reply has no MsgType")
        return reply
