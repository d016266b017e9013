"""One middleware maps every failure once: ``{"error": {"code", "message"}}`` for the API, the
Chinese message page for a person's page, with one status each. A store with no room left (a
full disk) is 507 "存储空间不足", never the 500 of an unexpected failure.

A page handler just calls its services and lets a ``DomainError`` go; ``@back(...)`` says where
the message page leads back to, ``@on_refusal(...)`` that a page shows the reason inside itself.
"""

from __future__ import annotations

import errno
import functools
import json
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

import aiohttp_jinja2
import structlog
from aiohttp import web
from pydantic import ValidationError

from app.domain.eligibility import NotEligible
from app.domain.errors import (
    DomainError,
    InvalidTransition,
    NotFoundError,
    NotPermitted,
    StaleVersion,
    ValidationFailed,
)
from app.services.materials import TOO_LARGE
from storage.documents import StorageFull
from storage.objects import InvalidKey, ObjectTooLarge

log = structlog.get_logger(__name__)

STATUS: dict[type[DomainError], int] = {
    ValidationFailed: 422,
    NotFoundError: 404,
    NotPermitted: 403,
    InvalidTransition: 409,
    StaleVersion: 409,
    NotEligible: 422,
}

HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求格式不正确"),
    404: ("not_found", "没有这个地址，请检查链接"),
    405: ("method_not_allowed", "该地址不支持此请求方法"),
    413: ("payload_too_large", "上传内容超过大小限制，请压缩后重试"),
}

PAGE_MESSAGES = {
    404: "页面不存在，请检查链接是否完整，或从公众号菜单重新进入",
    405: "不支持这样打开页面，请返回上一页重试",
    413: "上传的内容太大，请压缩后重试",
}

FULL = "存储空间不足，请稍后再试"
FULL_PAGE = FULL + "。刚才提交的内容没有保存，请过一会儿重新提交。"
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})

BACK = web.RequestKey("error_back", str)  # where a refused page's message leads back to
Handler = TypeVar("Handler", bound=Callable[[web.Request], Awaitable[web.StreamResponse]])
Refusal = Callable[[web.Request, DomainError], Awaitable[web.StreamResponse]]


class BadRequest(Exception):
    """The request body is not what the endpoint accepts (malformed JSON, wrong fields)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InvalidToken(Exception):
    """The token is missing, malformed, forged, expired, or uses a refused algorithm."""


def status_of(exc: DomainError) -> int:
    """The HTTP status of a refusal; its exact type decides, anything unlisted is a 400."""
    return STATUS.get(type(exc), 400)


def back(path: str) -> Callable[[Handler], Handler]:
    """Declare the page a refusal leads back to: ``path`` with the route's ``{names}`` filled in,
    e.g. ``@back("/h5/cases/{number}")`` under the route decorator."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def with_back(request: web.Request) -> web.StreamResponse:
            back_to(request, path.format_map(request.match_info))
            return await handler(request)

        return cast(Handler, with_back)

    return decorate


def back_to(request: web.Request, path: str) -> None:
    """Where a refusal leads back to, set inside a handler (when a form field decides)."""
    request[BACK] = path


def on_refusal(render: Refusal) -> Callable[[Handler], Handler]:
    """Declare that this page shows a refusal inside itself (a scan or a form with the reason
    beside it): ``render(request, exc)`` answers instead of the message page."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def with_refusal(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except DomainError as exc:
                return await render(request, exc)

        return cast(Handler, with_refusal)

    return decorate


def error_response(status: int, code: str, message: str) -> web.Response:
    body = {"error": {"code": code, "message": message}}
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def storage_full(exc: BaseException) -> bool:
    """Whether ``exc``, or the failure it arose from, is a store with no room left to write."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, StorageFull):
            return True
        if isinstance(seen, OSError) and seen.errno in _FULL_ERRNOS:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_page(request: web.Request) -> bool:
    """A person's page (H5, staff, checks) rather than the JSON API or the WeChat callback."""
    return not request.path.startswith(("/api/", "/wechat", "/healthz", "/readyz"))


def _page(request: web.Request, status: int, text: str, back: str = "") -> web.Response:
    """The error as a phone page: the sentence, and a way back."""
    context = {"text": text, "back": back}
    return aiohttp_jinja2.render_template("h5_message.html", request, context, status=status)


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if _is_page(request):
            # A handler's own sentence (HTTPForbidden(text=...)) or a Chinese one for the status.
            own = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else None
            return _page(
                request, exc.status, own or PAGE_MESSAGES.get(exc.status, "页面出错了，请返回重试")
            )
        code, message = HTTP_MESSAGES.get(exc.status, ("http_error", exc.reason))
        return error_response(exc.status, code, message)
    except DomainError as exc:
        if _is_page(request):
            return _page(request, status_of(exc), exc.message, request.get(BACK, ""))
        return error_response(status_of(exc), exc.code, exc.message)
    except InvalidToken:
        response = error_response(401, "unauthorized", "登录已失效或凭证无效，请重新登录")
        response.headers["WWW-Authenticate"] = 'Bearer realm="buchumen"'
        return response
    except BadRequest as exc:
        return error_response(400, exc.code, exc.message)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return error_response(422, "invalid_field", f"字段 {where} 不符合要求：{first['msg']}")
    except ObjectTooLarge:
        if _is_page(request):  # the stream passed the cap: the sentence names the cap
            return _page(request, 413, TOO_LARGE, request.get(BACK, ""))
        return error_response(413, *HTTP_MESSAGES[413])
    except InvalidKey:
        return error_response(400, "bad_request", "文件名或路径不合法")
    except Exception as exc:
        if storage_full(exc):  # nothing was kept; it works again once space is freed
            log.warning("storage_full", path=request.path, error=f"{type(exc).__name__}: {exc}")
            if _is_page(request):
                return _page(request, 507, FULL_PAGE, request.get(BACK, ""))
            return error_response(507, "storage_full", FULL)
        log.exception("unhandled_error", path=request.path)
        if _is_page(request):
            return _page(request, 500, "系统繁忙，请稍后再试；如持续出现请联系客服 12345")
        return error_response(500, "internal_error", "系统繁忙，请稍后再试；如持续出现请联系客服")
