"""How the simulated SF pushes route events to the partner's URL, signed, retried like SF.

SF retries a push the partner did not acknowledge with ``return_code`` 0000 and stops after
three failures (丰桥 路由推送: "失败3次后不再推送"), so a push makes at most ``attempts=3``
requests. ``retry_delay`` is compressible: tests set it to 0.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

from logistics import sf_protocol as sf
from logistics.simulator.state import Route

PUSH_ATTEMPTS = 3
PUSH_TIMEOUT = 5.0


@dataclass(frozen=True)
class PushResult:
    """One push: the routes it carried, requests made, last status, whether it was acknowledged."""

    routes: tuple[str, ...]  # route ids
    attempts: int
    status: int | None
    acknowledged: bool


def push_form(routes: Sequence[Route], *, partner_id: str, check_word: str) -> dict[str, str]:
    """The signed form SF posts for these routes (also how tests forge one)."""
    msg_data = sf.dumps({"Body": {"WaybillRoute": [r.as_push() for r in routes]}})
    timestamp = str(int(time.time() * 1000))
    return {
        "partnerID": partner_id,
        "requestID": uuid.uuid4().hex,
        "serviceCode": sf.ROUTE_PUSH,
        "timestamp": timestamp,
        "msgData": msg_data,
        "msgDigest": sf.msg_digest(msg_data, timestamp, check_word),
    }


class RoutePusher:
    def __init__(
        self,
        *,
        partner_id: str,
        check_word: str,
        callback_url: str,
        attempts: int = PUSH_ATTEMPTS,
        timeout: float = PUSH_TIMEOUT,
        retry_delay: float = 1.0,
    ) -> None:
        self.partner_id = partner_id
        self.check_word = check_word
        self.callback_url = callback_url
        self.attempts = attempts
        self.retry_delay = retry_delay
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def push(self, routes: Sequence[Route]) -> PushResult:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        status: int | None = None
        for attempt in range(1, self.attempts + 1):
            # Each attempt is signed afresh, with its own timestamp and requestID.
            form = push_form(routes, partner_id=self.partner_id, check_word=self.check_word)
            try:
                async with self._session.post(
                    self.callback_url, data=form, timeout=self._timeout
                ) as response:
                    status = response.status
                    body = await response.read()
                if status == 200 and _acknowledged(body):
                    return PushResult(tuple(r.id for r in routes), attempt, status, True)
            except (aiohttp.ClientError, TimeoutError):
                status = None
            if attempt < self.attempts:
                await asyncio.sleep(self.retry_delay)
        return PushResult(tuple(r.id for r in routes), self.attempts, status, False)


def _acknowledged(body: bytes) -> bool:
    try:
        answer = json.loads(body)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("return_code") == "0000"
