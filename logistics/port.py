"""The courier port: book a door pickup, cancel it, read its routes; typed answers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class CourierError(Exception):
    """Base of every error this package raises; ``message`` is Chinese, fit to show people."""

    message = "快递服务出现问题，请稍后再试。"

    def __init__(self, detail: str, message: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail  # for logs and supervisors; never shown to a citizen
        if message is not None:
            self.message = message


class CourierUnavailable(CourierError):
    """The courier could not be reached, timed out, or answered something unsigned or unreadable.

    The outcome is unknown: ask again with the same order id (a repeated booking is answered with
    the waybill already made).
    """

    message = "暂时联系不上快递公司，系统会自动重试，请稍后查看。"


class CourierRefused(CourierError):
    """The courier answered that it will not do this; ``code`` is its error code."""

    message = "快递公司未受理本次请求，请核对寄件信息后重试，或联系窗口工作人员。"

    def __init__(self, code: str, detail: str, message: str | None = None) -> None:
        super().__init__(f"{code}: {detail}", message)
        self.code = code


class OrderNotFound(CourierRefused):
    """No order with this id at the courier: never booked, or not ours."""

    message = "没有找到这笔快递订单，请核对后重试。"


class CannotCancel(CourierRefused):
    """The order can no longer be cancelled (the parcel has been collected)."""

    message = "快递员已取件，订单不能再取消；如有疑问请联系窗口工作人员。"


class InvalidContact(CourierError, ValueError):
    """A sender or receiver the courier would refuse; ``message`` says what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: invalid", message)
        self.field = field


# Provincial-level divisions by their full names, as SF's contactInfoList expects them.
# fmt: off
PROVINCES = frozenset((
    "北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省",
    "上海市", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省",
    "湖南省", "广东省", "广西壮族自治区", "海南省", "重庆市", "四川省", "贵州省", "云南省",
    "西藏自治区", "陕西省", "甘肃省", "青海省", "宁夏回族自治区", "新疆维吾尔自治区", "台湾省",
    "香港特别行政区", "澳门特别行政区",
))
# fmt: on
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Field -> (longest accepted, its name for the applicant); SF's limits are at least these.
_CONTACT_FIELDS = {
    "name": (50, "联系人姓名"),
    "province": (20, "省份"),
    "city": (30, "城市"),
    "county": (30, "区县"),
    "address": (200, "详细地址"),
    "company": (100, "单位名称"),
}


@dataclass(frozen=True)
class Contact:
    """One end of a shipment; the repr masks the person (PIPL: logs never hold a full address)."""

    name: str
    mobile: str
    province: str
    city: str
    county: str
    address: str  # street and number, without province/city/county
    company: str = ""

    def __post_init__(self) -> None:
        for name, (limit, label) in _CONTACT_FIELDS.items():
            value = getattr(self, name)
            if name not in ("county", "company") and not value.strip():
                raise InvalidContact(name, f"请填写{label}。")
            if len(value) > limit or _CONTROL.search(value):
                raise InvalidContact(name, f"{label}过长或含有无法识别的字符，请检查。")
        if not _MOBILE.fullmatch(self.mobile):
            raise InvalidContact("mobile", "请填写正确的 11 位手机号码。")
        if self.province not in PROVINCES:
            raise InvalidContact("province", "请选择省份（省、自治区、直辖市的全称）。")

    def __repr__(self) -> str:
        masked_name = self.name[:1] + "*" * max(len(self.name) - 1, 1)
        masked_mobile = self.mobile[:3] + "****" + self.mobile[-4:]
        return f"Contact({masked_name!r}, {masked_mobile!r}, {self.city!r}, {self.county!r}, ***)"


@dataclass(frozen=True)
class Cargo:
    """What travels: for us, originals or a certificate in an envelope."""

    name: str
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not self.name.strip():
            raise ValueError("cargo needs a name and a positive count")


@dataclass(frozen=True)
class PickupWindow:
    """When the courier may come to the door (timezone-aware, start before end)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a pickup window must be timezone-aware")
        if self.end <= self.start:
            raise ValueError("a pickup window must end after it starts")


@dataclass(frozen=True)
class PickupOrder:
    """One booking: ``order_id`` is our idempotency key (one id per case and hand-over leg).

    SF never reuses an order id, not even a cancelled one: a rebooking takes a new id (``-P2``).
    """

    order_id: str
    sender: Contact
    receiver: Contact
    window: PickupWindow
    cargo: tuple[Cargo, ...] = field(default=(Cargo("政务材料原件"),))
    remark: str = ""

    def __post_init__(self) -> None:
        if not _ORDER_ID.fullmatch(self.order_id):
            raise ValueError("order_id must be 1-64 letters, digits, '-' or '_'")
        if not self.cargo:
            raise ValueError("an order carries at least one cargo line")


@dataclass(frozen=True)
class Booking:
    """A booked order; ``existing`` is True when the order id had been booked before."""

    order_id: str
    waybill_no: str
    existing: bool = False


class Stage(StrEnum):
    """What a route event means for a case; the adapter maps the courier's codes onto these."""

    COLLECTED = "collected"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    FAILED = "failed"  # a delivery attempt failed or the parcel goes back
    OTHER = "other"


@dataclass(frozen=True)
class RouteEvent:
    """One scan of the parcel; ``event_id`` (when the courier gives one) identifies it for dedup."""

    waybill_no: str
    at: datetime  # timezone-aware
    op_code: str
    stage: Stage
    place: str
    remark: str
    order_id: str = ""
    event_id: str = ""

    @property
    def key(self) -> str:
        """A stable identity: the courier's id, else waybill, code and time."""
        return self.event_id or f"{self.waybill_no}:{self.op_code}:{self.at.isoformat()}"


class Courier(Protocol):
    """A courier company's door pickups (SfCourier is the one adapter)."""

    async def book_pickup(self, order: PickupOrder) -> Booking:
        """Book a pickup at the sender's door; repeating an order id returns the same waybill."""
        ...

    async def cancel(self, order_id: str) -> None:
        """Cancel a booking before collection; cancelling a cancelled order is not an error."""
        ...

    async def routes(self, waybill_no: str) -> list[RouteEvent]:
        """The parcel's scans so far, oldest first."""
        ...
