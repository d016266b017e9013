"""Requests in flight, counted, so that a stopping service answers them before it exits.

aiohttp's own stop closes every connection first, and a closed connection drops what it
receives after that: an upload in flight at SIGTERM never completes (aio-libs/aiohttp#2298).
``buchumen serve`` stops on its own instead (``app/cli/running.py``): it stops listening, waits
here until the requests in flight are answered, then lets aiohttp close what is left.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from aiohttp import web
from aiohttp.typedefs import Handler


class InFlight:
    """Counts the requests being handled and the connections they came on."""

    def __init__(self) -> None:
        self._serving: Counter[object] = Counter()  # connection -> requests being handled
        self._idle: asyncio.Event | None = None
        self.stopping = False

    @property
    def count(self) -> int:
        return self._serving.total()

    def serving(self, connection: object) -> bool:
        """Whether a request that came on ``connection`` is being handled."""
        return self._serving[connection] > 0

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        connection = request.protocol
        self._serving[connection] += 1
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            self._last_on_its_connection(exc)
            raise
        finally:
            self._serving[connection] -= 1
            if self._serving[connection] <= 0:
                del self._serving[connection]
            if not self._serving and self._idle is not None:
                self._idle.set()
        self._last_on_its_connection(response)
        return response

    def _last_on_its_connection(self, response: web.StreamResponse) -> None:
        # While stopping, an answer ends its connection, so no keep-alive request follows it.
        if self.stopping:
            response.force_close()

    async def drained(self) -> None:
        """Return once no request is in flight (the caller bounds the wait)."""
        while self._serving:
            self._idle = asyncio.Event()
            await self._idle.wait()
