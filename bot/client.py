"""Async client of the WeChat official-account API (messages, media, menu, OAuth) over aiohttp.

Every call takes the shared access token from ``TokenCache``; an invalid or expired token
(40001, 40014, 42001) is invalidated and the call retried once with a fresh one. Secrets and
tokens travel in query strings, so nothing here logs or raises a URL. A call that went out and
got no answer (timed out, or the connection dropped) raises ``WeChatNoAnswer``: WeChat may
have acted on it, so whoever retries a message must expect a duplicate (see storage/outbox.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import aiohttp
import structlog

from bot.errors import WeChatError
from bot.token_cache import TokenCache

API_BASE_URL = "https://api.weixin.qq.com"
OPEN_BASE_URL = "https://open.weixin.qq.com"
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
_MAX_JSON_BYTES = 1 << 20
_SECRET_PARAM = re.compile(r"(access_token|secret|code)=[^&\s'\"]*")
T = TypeVar("T")

log = structlog.get_logger(__name__)


class WeChatApiError(WeChatError):
    """WeChat answered with a non-zero ``errcode``."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatUnavailable(WeChatError):
    """WeChat could not be reached, timed out, or answered something that is not its API."""


class WeChatNoAnswer(WeChatUnavailable):
    """The call went out and no answer came back: WeChat may have acted on it."""


class MediaTooLarge(WeChatError):
    """A media download exceeded the caller's size cap."""


def redact(text: str) -> str:
    """``text`` with access tokens, secrets and OAuth codes masked."""
    return _SECRET_PARAM.sub(r"\1=***", text)


def _check(data: Mapping[str, Any]) -> Mapping[str, Any]:
    errcode = data.get("errcode") or 0
    if errcode:
        raise WeChatApiError(int(errcode), str(data.get("errmsg", "")))
    return data


class WeChatClient:
    """The account's outbound API; one per appid, sharing the app's aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        appid: str,
        secret: str,
        tokens: TokenCache,
        open_base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._open_base = (open_base_url or OPEN_BASE_URL).rstrip("/")
        self._appid = appid
        self._secret = secret
        self._tokens = tokens
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def __repr__(self) -> str:
        return f"WeChatClient(base_url={self._base!r}, appid={self._appid!r}, secret='***')"

    async def send_text(self, openid: str, text: str) -> None:
        """Send a customer-service text; 45015 if the user has not acted in the last 48 h."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        await self._authorized(lambda t: self._post("/cgi-bin/message/custom/send", t, body))

    async def send_template(
        self, openid: str, template_id: str, *, url: str | None, data: Mapping[str, str]
    ) -> str:
        """Send a template message; returns WeChat's msgid."""
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {name: {"value": value} for name, value in data.items()},
        }
        if url:
            body["url"] = url
        answer = await self._authorized(
            lambda t: self._post("/cgi-bin/message/template/send", t, body)
        )
        return str(answer.get("msgid", ""))

    async def ping(self) -> None:
        """Ask WeChat something harmless (its API servers' addresses); raises unless answered."""
        path = "/cgi-bin/get_api_domain_ip"
        answer = await self._authorized(
            lambda t: self._request("GET", path, params={"access_token": t})
        )
        if not isinstance(answer.get("ip_list"), list):
            raise WeChatUnavailable(f"GET {path}: the answer has no ip_list")

    async def create_menu(self, menu: Mapping[str, Any]) -> None:
        await self._authorized(lambda t: self._post("/cgi-bin/menu/create", t, menu))

    async def download_media(self, media_id: str, *, max_bytes: int) -> tuple[bytes, str]:
        """The bytes and content type of a temporary media; MediaTooLarge past ``max_bytes``."""
        return await self._authorized(lambda t: self._download(t, media_id, max_bytes))

    def oauth_authorize_url(self, redirect_uri: str, state: str) -> str:
        """The page that sends the user back to ``redirect_uri?code=..&state=..`` (snsapi_base)."""
        # WeChat checks the parameters in this order and wants the fragment.
        query = urlencode(
            [
                ("appid", self._appid),
                ("redirect_uri", redirect_uri),
                ("response_type", "code"),
                ("scope", "snsapi_base"),
                ("state", state),
            ],
            quote_via=quote,
            safe="",
        )
        return f"{self._open_base}/connect/oauth2/authorize?{query}#wechat_redirect"

    async def oauth_openid(self, code: str) -> str:
        """Exchange an OAuth code (single use, 5 minutes) for the user's openid."""
        params = {
            "appid": self._appid,
            "secret": self._secret,
            "code": code,
            "grant_type": "authorization_code",
        }
        answer = await self._request("GET", "/sns/oauth2/access_token", params=params)
        return _field(answer, "openid", "/sns/oauth2/access_token")

    async def fetch_token(self) -> tuple[str, int]:
        """A new access token and its lifetime in seconds (TokenCache calls this under a lease)."""
        params = {"grant_type": "client_credential", "appid": self._appid, "secret": self._secret}
        answer = await self._request("GET", "/cgi-bin/token", params=params)
        token = _field(answer, "access_token", "/cgi-bin/token")
        expires_in = answer.get("expires_in", 7200)
        if not isinstance(expires_in, int) or expires_in <= 0:
            raise WeChatUnavailable("GET /cgi-bin/token: expires_in is not a positive integer")
        log.info("wechat_token_fetched", appid=self._appid, expires_in=expires_in)
        return token, expires_in

    async def _authorized(self, call: Callable[[str], Awaitable[T]]) -> T:
        token = await self._tokens.get(self.fetch_token)
        try:
            return await call(token)
        except WeChatApiError as e:
            if e.errcode not in TOKEN_ERRORS:
                raise
            log.warning("wechat_token_rejected", errcode=e.errcode, action="refreshing once")
            await self._tokens.invalidate(token)
        return await call(await self._tokens.get(self.fetch_token))

    async def _post(self, path: str, token: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        # WeChat shows \\uXXXX escapes literally: the body must be raw UTF-8.
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return await self._request(
            "POST",
            path,
            params={"access_token": token},
            data=payload,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str],
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Mapping[str, Any]:
        try:
            async with self._session.request(
                method,
                self._base + path,
                params=params,
                data=data,
                headers=headers,
                timeout=self._timeout,
            ) as response:
                body = await read_capped(response.content, _MAX_JSON_BYTES)
        except (aiohttp.ClientError, TimeoutError) as e:
            raise _unavailable(method, path, e) from None
        return _check(_json(method, path, response.status, body))

    async def _download(self, token: str, media_id: str, max_bytes: int) -> tuple[bytes, str]:
        path = "/cgi-bin/media/get"
        params = {"access_token": token, "media_id": media_id}
        try:
            async with self._session.get(
                self._base + path, params=params, timeout=self._timeout
            ) as response:
                content_type = response.headers.get("Content-Type", "")
                if content_type.startswith(("application/json", "text/")):
                    body = await read_capped(response.content, _MAX_JSON_BYTES)
                    _check(_json("GET", path, response.status, body))
                    raise WeChatUnavailable(f"GET {path}: JSON without errcode instead of media")
                if response.status != 200:
                    raise WeChatUnavailable(f"GET {path}: HTTP {response.status}")
                if (response.content_length or 0) > max_bytes:
                    raise MediaTooLarge(f"media is {response.content_length} bytes > {max_bytes}")
                body = await read_capped(response.content, max_bytes, MediaTooLarge)
        except (aiohttp.ClientError, TimeoutError) as e:
            raise _unavailable("GET", path, e) from None
        return body, content_type.split(";")[0].strip() or "application/octet-stream"


async def read_capped(
    stream: aiohttp.StreamReader,
    limit: int,
    error: type[WeChatError] = WeChatUnavailable,
) -> bytes:
    """Read a whole body, raising ``error`` as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise error(f"response body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _json(method: str, path: str, status: int, body: bytes) -> Mapping[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise WeChatUnavailable(f"{method} {path}: HTTP {status}, not a JSON object")
    return data


def _field(answer: Mapping[str, Any], name: str, path: str) -> str:
    value = answer.get(name)
    if not isinstance(value, str) or not value:
        raise WeChatUnavailable(f"{path}: the answer has no {name}")
    return value


def _unavailable(method: str, path: str, error: BaseException) -> WeChatUnavailable:
    if isinstance(error, TimeoutError):
        return WeChatNoAnswer(f"{method} {path}: no answer from WeChat in time")
    said = redact(f"{method} {path}: {type(error).__name__}: {error}")
    if isinstance(error, aiohttp.ClientConnectorError):
        return WeChatUnavailable(said)  # never connected: nothing went out
    ended = (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError)
    if isinstance(error, ended):
        return WeChatNoAnswer(said)  # sent; the connection ended (or was reset) before the answer
    return WeChatUnavailable(said)
