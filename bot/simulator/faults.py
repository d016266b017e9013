"""Faults the local WeChat API shows on demand, so tests can watch what our side does then.

``SERVER_ERROR``: every API call answers HTTP 500 and does nothing (an outage).
``LOST_ANSWER``: the call is carried out (a message reaches the phone) and the connection drops
before the answer. ``SLOW_ANSWER``: carried out, and answered ``slow_seconds`` later (WeChat's
answer slower than our client waits). Only the API (``/cgi-bin/``) is touched: pushes to the
account and the phone's chat page go on as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from enum import StrEnum

from aiohttp import web

API_PREFIX = "/cgi-bin/"


class Fault(StrEnum):
    SERVER_ERROR = "server_error"
    LOST_ANSWER = "lost_answer"
    SLOW_ANSWER = "slow_answer"


class Faults:
    """The fault switched on (None: WeChat behaves), and the slow answer's delay."""

    def __init__(self) -> None:
        self.fault: Fault | None = None
        self.slow_seconds = 15.0
        self._released = asyncio.Event()

    def release(self) -> None:
        """Let every slow answer go now (the simulator is stopping)."""
        self._released.set()

    async def slow(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), self.slow_seconds)


FAULTS = web.AppKey("wechat_faults", Faults)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def api_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    faults = request.app[FAULTS]
    if faults.fault is None or not request.path.startswith(API_PREFIX):
        return await handler(request)
    if faults.fault is Fault.SERVER_ERROR:
        return web.Response(status=500, text="500 Internal Server Error")
    response = await handler(request)  # done: the message is on the phone
    if faults.fault is Fault.SLOW_ANSWER:
        await faults.slow()
    elif request.transport is not None:  # LOST_ANSWER
        request.transport.close()
    return response
