"""How Alipay sends asynchronous notifications: signed, form-encoded, repeated until ``success``.

Alipay's docs: if the answer is not exactly the 7 characters ``success``, the notice is sent
again, 8 times in all within about 25 hours, at intervals of 4m, 10m, 10m, 1h, 2h, 6h, 15h.
Each attempt is signed afresh (its notify_time changes); notify_id stays the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp
import structlog
from cryptography.hazmat.primitives.asymmetric import rsa

from payments.alipay import beijing_time
from payments.signing import notification_content, rsa2_sign
from payments.simulator.ledger import Clock, utcnow

# Seconds to wait before each attempt: the first at once, then Alipay's intervals.
ALIPAY_SCHEDULE: tuple[float, ...] = (
    0,
    4 * 60,
    10 * 60,
    10 * 60,
    3600,
    2 * 3600,
    6 * 3600,
    15 * 3600,
)
ATTEMPT_TIMEOUT = 10.0

log = structlog.get_logger(__name__)


def compressed(factor: float, schedule: Sequence[float] = ALIPAY_SCHEDULE) -> tuple[float, ...]:
    """Alipay's schedule with every wait multiplied by ``factor`` (tests: a tiny one)."""
    return tuple(delay * factor for delay in schedule)


@dataclass
class Delivery:
    """One notification and what became of each attempt (HTTP status and body, or an error)."""

    notify_id: str
    url: str
    params: dict[str, str]
    attempts: list[str] = field(default_factory=list)
    delivered: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Notifier:
    """Signs with Alipay's private key and POSTs on the schedule, one task per notification."""

    def __init__(
        self,
        *,
        private_key: rsa.RSAPrivateKey,
        schedule: Sequence[float] = ALIPAY_SCHEDULE,
        timeout: float = ATTEMPT_TIMEOUT,
        clock: Clock = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._key = private_key
        self.schedule = tuple(schedule)
        self.timeout = timeout
        self._clock = clock
        self._sleep = sleep
        self.deliveries: list[Delivery] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    def signed(self, params: Mapping[str, str]) -> dict[str, str]:
        """``params`` with notify_time now, sign_type and sign, as Alipay sends them."""
        out = {**params, "notify_time": beijing_time(self._clock()), "sign_type": "RSA2"}
        out["sign"] = rsa2_sign(self._key, notification_content(out))
        return out

    def send(self, url: str, params: Mapping[str, str]) -> Delivery:
        """Start delivering a notification (a fresh notify_id) in the background."""
        delivery = Delivery(notify_id=secrets.token_hex(16), url=url, params=dict(params))
        delivery.params["notify_id"] = delivery.notify_id
        self.deliveries.append(delivery)
        task = asyncio.create_task(self._deliver(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return delivery

    async def idle(self) -> None:
        """Wait until every notification sent so far is delivered or given up."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver(self, delivery: Delivery) -> None:
        try:
            for delay in self.schedule:
                if delay:
                    await self._sleep(delay)
                outcome = await self._attempt(delivery)
                delivery.attempts.append(outcome)
                if outcome == "200 success":
                    delivery.delivered = True
                    return
            log.warning(
                "alipay_sim_notify_gave_up",
                notify_id=delivery.notify_id,
                attempts=len(delivery.attempts),
            )
        finally:
            delivery.done.set()

    async def _attempt(self, delivery: Delivery) -> str:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.post(
                delivery.url,
                data=self.signed(delivery.params),  # application/x-www-form-urlencoded
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                body = await response.content.read(1024)
                return f"{response.status} {body.decode('utf-8', errors='replace')}"
        except TimeoutError:
            return "timeout"
        except aiohttp.ClientError as e:
            return f"error {type(e).__name__}"
