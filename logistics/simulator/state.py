"""What the simulated SF holds: orders by orderId, their waybills, and the routes scanned so far."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Route:
    """One scan as SF keeps it: the fields of both its route query and its route push."""

    id: str
    mailno: str
    orderid: str
    op_code: str
    accept_time: str
    accept_address: str
    remark: str

    def as_query(self) -> dict[str, str]:
        return {
            "acceptTime": self.accept_time,
            "acceptAddress": self.accept_address,
            "remark": self.remark,
            "opCode": self.op_code,
        }

    def as_push(self) -> dict[str, str]:
        return {
            "id": self.id,
            "mailno": self.mailno,
            "orderid": self.orderid,
            "opCode": self.op_code,
            "acceptTime": self.accept_time,
            "acceptAddress": self.accept_address,
            "remark": self.remark,
            "reasonCode": "",
            "reasonName": "",
        }


@dataclass
class Order:
    order_id: str
    waybill_no: str
    data: dict[str, Any]  # the msgData it was created with
    cancelled: bool = False
    routes: list[Route] = field(default_factory=list)

    @property
    def collected(self) -> bool:
        return any(r.op_code in ("50", "54") for r in self.routes)


class SfState:
    """Orders of one partner; waybill numbers are SF-like (``SF`` + 13 digits), seeded."""

    def __init__(self, *, clock: Clock = utcnow, seed: int | None = None) -> None:
        self.clock = clock
        self.orders: dict[str, Order] = {}
        self.by_waybill: dict[str, Order] = {}
        self.calls: list[str] = []  # serviceCodes received, in order (tests read it)
        self.content_type = ""  # of the last request
        self.unserved_cities: set[str] = set()  # senders there get filterResult 3 (不可收派)
        self._random = random.Random(seed)  # noqa: S311 - numbers that look like SF's, not secrets
        self._route_ids = 0

    def create(self, order_id: str, data: dict[str, Any]) -> Order:
        waybill = f"SF{self._random.randrange(10**12, 10**13)}"
        while waybill in self.by_waybill:
            waybill = f"SF{self._random.randrange(10**12, 10**13)}"
        order = Order(order_id, waybill, data)
        self.orders[order_id] = order
        self.by_waybill[waybill] = order
        return order

    def next_route_id(self) -> str:
        self._route_ids += 1
        return f"{int(self.clock().timestamp() * 1000)}{self._route_ids:03d}"
