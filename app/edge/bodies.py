"""A request body that does not parse as its ``Content-Type`` says is the sender's fault: a 400.

aiohttp's form and multipart parsers raise a bare ``ValueError`` (no starting boundary, a part
cut off), assert that a body is multipart, or raise ``BadHttpMessage`` (a part's broken header),
from whichever handler reads the form first (``checked_form``, the sign-in, a courier's push, an
upload). This middleware, inside the error middleware, turns exactly those into a 400 and lets
every other error through.
"""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MALFORMED = "表单格式不正确，请返回上一页重新提交。"
_PARSERS = {Path(aiohttp.__file__).parent / name for name in ("multipart.py", "web_request.py")}


def _from_body_parser(exc: BaseException) -> bool:
    """Whether ``exc`` was raised inside aiohttp's own form or multipart parsing."""
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and Path(frames[-1].filename) in _PARSERS


@web.middleware
async def malformed_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BadHttpMessage as exc:  # the request's own head was parsed before any handler ran
        raise web.HTTPBadRequest(text=MALFORMED) from exc
    except (ValueError, AssertionError) as exc:
        if not _from_body_parser(exc):
            raise
        raise web.HTTPBadRequest(text=MALFORMED) from exc
