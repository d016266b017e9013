"""The simulated SF as tests and demo mode drive it: scan a parcel, push its routes."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from datetime import timedelta

from aiohttp import web

from logistics import sf_protocol as sf
from logistics.simulator.push import PUSH_ATTEMPTS, PushResult, RoutePusher
from logistics.simulator.state import Clock, Route, SfState, utcnow

# What SF's routes say at each step (remarks as SF's tracking pages word them).
SCANS: dict[str, tuple[str, str]] = {
    "50": ("顺丰速运 已收取快件", "寄件人所在网点"),
    "30": ("快件在【中转场】完成分拣，准备发往下一站", "中转场"),
    "31": ("快件到达【目的地网点】", "目的地网点"),
    "44": ("快件交给快递员，正在派送途中", "目的地网点"),
    "80": ("已签收，感谢使用顺丰，期待再次为您服务", "收件人地址"),
}
JOURNEY = ("50", "30", "31", "44", "80")  # collected, in transit, out for delivery, delivered


class SfSimulator:
    """One SF partner account: its gateway state and its route pushes."""

    def __init__(
        self,
        *,
        partner_id: str,
        check_word: str,
        callback_url: str,
        clock: Clock = utcnow,
        seed: int | None = None,
        push_attempts: int = PUSH_ATTEMPTS,
        push_retry_delay: float = 1.0,
    ) -> None:
        self.partner_id = partner_id
        self.check_word = check_word
        self.state = SfState(clock=clock, seed=seed)
        self.pusher = RoutePusher(
            partner_id=partner_id,
            check_word=check_word,
            callback_url=callback_url,
            attempts=push_attempts,
            retry_delay=push_retry_delay,
        )
        self.base_url: str | None = None  # set by start_sf_simulator
        self._tasks: set[asyncio.Task[list[PushResult]]] = set()

    def __repr__(self) -> str:
        return f"SfSimulator(partner_id={self.partner_id!r}, check_word='***')"

    @property
    def service_url(self) -> str:
        return f"{self.base_url or 'http://127.0.0.1'}/std/service"

    def scan(self, waybill_no: str, op_code: str, *, minutes_later: float = 0) -> Route:
        """Record a scan of the parcel (what the route query returns from now on)."""
        order = self.state.by_waybill[waybill_no]
        remark, place = SCANS.get(op_code, (f"路由操作 {op_code}", ""))
        at = self.state.clock() + timedelta(minutes=minutes_later)
        route = Route(
            id=self.state.next_route_id(),
            mailno=waybill_no,
            orderid=order.order_id,
            op_code=op_code,
            accept_time=sf.sf_time(at),
            accept_address=place,
            remark=remark,
        )
        order.routes.append(route)
        return route

    async def play(
        self,
        waybill_no: str,
        op_codes: Sequence[str] = JOURNEY,
        *,
        interval: float = 0.0,
        repeat: int = 1,
        shuffle_seed: int | None = None,
        minutes_apart: float = 30,
    ) -> list[PushResult]:
        """Scan the parcel through ``op_codes`` (``minutes_apart`` simulated minutes apart) and
        push each route.

        ``repeat`` pushes every route that many times; ``shuffle_seed`` delivers the pushes in
        a shuffled order; ``interval`` is the real wait between pushes (0 in tests).
        """
        routes = [
            self.scan(waybill_no, code, minutes_later=minutes_apart * i)
            for i, code in enumerate(op_codes)
        ]
        deliveries = [route for route in routes for _ in range(repeat)]
        if shuffle_seed is not None:
            random.Random(shuffle_seed).shuffle(deliveries)  # noqa: S311 - test ordering
        results = []
        for i, route in enumerate(deliveries):
            if i and interval:
                await asyncio.sleep(interval)
            results.append(await self.pusher.push([route]))
        return results

    def play_later(self, waybill_no: str, *, interval: float) -> None:
        """Demo mode: the parcel travels in the background, one scan every ``interval`` seconds
        (and as many simulated seconds apart, so the times read true)."""
        task = asyncio.create_task(
            self.play(waybill_no, interval=interval, minutes_apart=interval / 60)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.pusher.close()


SF_SIMULATOR = web.AppKey("sf_simulator", SfSimulator)
