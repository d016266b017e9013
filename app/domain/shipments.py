"""Courier legs of a case: the applicant's address, pickup windows, and a booking's life.

A case whose matter needs originals has up to two legs: ``pickup`` (the originals, from the
applicant's door to the department's counter) and ``delivery`` (the certificate, back home).
Each leg books one courier order at a time; its order id is ours and stable, so a retried
booking never makes a second parcel, and a rebooking takes the next id (SF never reuses one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any

from app.domain.cases import CHINA
from app.domain.errors import InvalidTransition, ValidationFailed
from app.domain.identity import mask_phone

PICKUP, DELIVERY = "pickup", "delivery"
LEGS = (PICKUP, DELIVERY)
_LEG_LETTER = {PICKUP: "P", DELIVERY: "D"}
MOBILE = re.compile(r"1[3-9][0-9]{9}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f<>]")
# A failed booking is retried by the outbox; after this many failures the reviewer sees it.
FLAG_AFTER_FAILURES = 3
BOOKING_FAILED = "预约取件失败"
DELIVERY_FAILED = "预约寄送证照失败"
NOT_BOOKED = {
    PICKUP: "该办件的上门取件尚未预约成功，暂不能交接。",
    DELIVERY: "证照寄送尚未预约成功，请稍后再交寄。",
}

# Provincial-level divisions by their full names, as couriers expect them.
# fmt: off
PROVINCES = (
    "北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省",
    "上海市", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省",
    "湖南省", "广东省", "广西壮族自治区", "海南省", "重庆市", "四川省", "贵州省", "云南省",
    "西藏自治区", "陕西省", "甘肃省", "青海省", "宁夏回族自治区", "新疆维吾尔自治区",
    "香港特别行政区", "澳门特别行政区",
)
# fmt: on
# Field -> (shortest, longest, its name for the applicant).
_LIMITS = {
    "name": (2, 30, "收件人姓名"),
    "city": (2, 20, "城市"),
    "district": (2, 20, "区县"),
    "detail": (5, 120, "详细地址"),
}


@dataclass(frozen=True)
class MailingAddress:
    """Where the courier collects the originals and brings the certificate (PIPL: masked)."""

    name: str
    mobile: str
    province: str
    city: str
    district: str
    detail: str  # street, number, building, room: without province, city, district

    @classmethod
    def parse(cls, form: dict[str, str]) -> MailingAddress:
        """The address in a form, trimmed; ValidationFailed naming every part to fix at once."""
        problems = address_problems(form)
        if problems:
            raise ValidationFailed("；".join(problems.values()) + "。")
        return cls(**_trimmed(form))

    def masked(self) -> str:
        """What staff, couriers and logs may read: 张* 138****8000 福建省福州市鼓楼区***."""
        return f"{self.name[:1]}{'*' * max(len(self.name) - 1, 1)} {mask_phone(self.mobile)} " + (
            f"{self.province}{self.city}{self.district}***"
        )

    def full(self) -> str:
        """The whole address, for its owner's own page only."""
        return f"{self.province}{self.city}{self.district}{self.detail}"

    def __repr__(self) -> str:
        return f"MailingAddress({self.masked()!r})"

    def as_dict(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in _FIELDS}


_FIELDS = ("name", "mobile", "province", "city", "district", "detail")


def _trimmed(form: dict[str, str]) -> dict[str, str]:
    values = {k: " ".join(str(form.get(k, "")).split()) for k in _FIELDS}
    values["mobile"] = values["mobile"].replace(" ", "").replace("-", "")
    return values


def address_problems(form: dict[str, str]) -> dict[str, str]:
    """Every problem of an address form, by field, in the form's order (empty: it is good)."""
    values = _trimmed(form)
    problems = {}
    for name, (low, high, label) in _LIMITS.items():
        value = values[name]
        if not value:
            problems[name] = f"请填写{label}"
        elif not low <= len(value) <= high:
            problems[name] = f"{label}应为 {low} 到 {high} 个字"
        elif _CONTROL.search(value):
            problems[name] = f"{label}含有无法识别的字符"
    if not MOBILE.fullmatch(values["mobile"]):
        problems["mobile"] = "请填写正确的 11 位手机号码"
    if values["province"] not in PROVINCES:
        problems["province"] = "请选择省份（省、自治区、直辖市）"
    return {k: problems[k] for k in _FIELDS if k in problems}


@dataclass(frozen=True)
class Counter:
    """A department's counter that receives originals and sends certificates out."""

    department: str
    name: str  # e.g. 市交通运输局政务服务窗口
    mobile: str
    province: str
    city: str
    district: str
    detail: str

    def address(self) -> MailingAddress:
        return MailingAddress(
            self.name, self.mobile, self.province, self.city, self.district, self.detail
        )


@dataclass(frozen=True)
class TimeWindow:
    """When the courier may come (Beijing time, two hours)."""

    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        """The form value of this window: its Beijing start to the minute."""
        return self.start.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M")

    def label(self) -> str:
        start, end = self.start.astimezone(CHINA), self.end.astimezone(CHINA)
        weekday = "一二三四五六日"[start.weekday()]
        return f"{start.month}月{start.day}日（周{weekday}）{start:%H:%M}–{end:%H:%M}"


WINDOW_STARTS = (time(9), time(11), time(13), time(15), time(17))
WINDOW_LENGTH = timedelta(hours=2)
LEAD_TIME = timedelta(hours=1)  # the courier needs notice


def offered_windows(now: datetime, *, days: int = 3) -> list[TimeWindow]:
    """Two-hour windows from 09:00 to 19:00 on the next ``days`` days, starting an hour ahead."""
    today = now.astimezone(CHINA).date()
    windows = []
    for n in range(days + 1):
        day = today + timedelta(days=n)
        for start in WINDOW_STARTS:
            begins = datetime.combine(day, start, tzinfo=CHINA)
            if begins >= now + LEAD_TIME:
                windows.append(TimeWindow(begins, begins + WINDOW_LENGTH))
    return windows[: days * len(WINDOW_STARTS)]


def chosen_window(key: str, now: datetime) -> TimeWindow:
    """The offered window the form named; ValidationFailed if it is not (or no longer) offered."""
    for window in offered_windows(now):
        if window.key == key:
            return window
    raise ValidationFailed("请从列表中选择上门取件时间（所选时间已过或不可选）。")


class LegStatus(StrEnum):
    REQUESTED = "requested"  # a booking job is queued
    BOOKED = "booked"  # the courier gave a waybill number
    REFUSED = "refused"  # the courier will not take it as it is: the applicant must change it
    CANCELLED = "cancelled"
    COLLECTED = "collected"  # a courier holds the parcel (scanned at the door or the counter)
    ARRIVED = "arrived"  # handed to the counter, or delivered home


STATUS_ZH = {
    LegStatus.REQUESTED: "正在预约",
    LegStatus.BOOKED: "已预约",
    LegStatus.REFUSED: "预约未成功",
    LegStatus.CANCELLED: "已取消",
    LegStatus.COLLECTED: "运输中",
    LegStatus.ARRIVED: "已送达",
}


@dataclass
class Leg:
    """One courier leg of a case and the orders it booked; ``version`` is the store's."""

    case: str
    kind: str  # PICKUP or DELIVERY
    department: str
    applicant_id: str
    address: MailingAddress  # the applicant's end
    window: TimeWindow
    status: LegStatus = LegStatus.REQUESTED
    attempt: int = 1  # the n of the current order id
    waybill: str | None = None
    failures: int = 0  # failed attempts of the current order
    holder: str | None = None  # the courier account holding the parcel while collected
    trouble: str | None = None  # what the reviewer's queue shows, when set
    detail: str = ""  # why, for staff (the courier's code or error)
    previous: list[dict[str, Any]] = field(default_factory=list)  # earlier orders
    updated_at: datetime | None = None
    version: int = 0

    @property
    def order_id(self) -> str:
        return order_id(self.case, self.kind, self.attempt)

    @property
    def cancellable(self) -> bool:
        return self.kind == PICKUP and self.status in {LegStatus.REQUESTED, LegStatus.BOOKED}

    def rebook(self, address: MailingAddress, window: TimeWindow, at: datetime) -> str | None:
        """A new order for a new address or time; returns the old order id to cancel, if any."""
        old = None
        if self.status in {LegStatus.REQUESTED, LegStatus.BOOKED}:
            old = self.order_id
        self._retire(at)
        self.address, self.window = address, window
        return old

    def cancel(self, at: datetime) -> str:
        """The applicant cancels the pickup; returns the order id to cancel at the courier."""
        if not self.cancellable:
            raise InvalidTransition("当前没有可取消的上门取件预约。")
        self.status, self.trouble, self.updated_at = LegStatus.CANCELLED, None, at
        return self.order_id

    def close(self, at: datetime) -> str | None:
        """The case no longer needs this leg (withdrawn): the order to cancel, if one is live."""
        live = self.order_id if self.status in {LegStatus.REQUESTED, LegStatus.BOOKED} else None
        if self.status in {LegStatus.REQUESTED, LegStatus.BOOKED, LegStatus.REFUSED}:
            self.status, self.trouble, self.updated_at = LegStatus.CANCELLED, None, at
        return live

    def booked(self, order: str, waybill: str, at: datetime) -> bool:
        """Keep the waybill of the current order; False when ``order`` is no longer current."""
        if order != self.order_id or self.status is LegStatus.CANCELLED:
            return False
        self.status, self.waybill = LegStatus.BOOKED, waybill
        self.failures, self.trouble, self.detail, self.updated_at = 0, None, "", at
        return True

    def failed(self, order: str, detail: str, at: datetime) -> bool:
        """One more failed attempt; True when this one raised the flag for the reviewer."""
        if order != self.order_id or self.status is not LegStatus.REQUESTED:
            return False
        self.failures += 1
        self.detail, self.updated_at = detail[:300], at
        if self.failures >= FLAG_AFTER_FAILURES and self.trouble is None:
            self.trouble = BOOKING_FAILED if self.kind == PICKUP else DELIVERY_FAILED
            return True
        return False

    def refused(self, order: str, detail: str, at: datetime) -> bool:
        """The courier refused the order (an address it does not serve, say): flag at once."""
        if order != self.order_id or self.status is not LegStatus.REQUESTED:
            return False
        self.status = LegStatus.REFUSED
        self.trouble = BOOKING_FAILED if self.kind == PICKUP else DELIVERY_FAILED
        self.detail, self.updated_at = detail[:300], at
        return True

    def collected(self, courier_id: str | None, at: datetime) -> None:
        """A courier took the parcel (the door scan; the counter's dispatch scan)."""
        if self.status is not LegStatus.BOOKED:
            raise InvalidTransition(NOT_BOOKED[self.kind])
        self.status, self.holder, self.updated_at = LegStatus.COLLECTED, courier_id, at

    def arrived(self, at: datetime) -> None:
        """The parcel reached its end (the counter's arrival scan; delivered home)."""
        self.status, self.holder, self.updated_at = LegStatus.ARRIVED, None, at

    def _retire(self, at: datetime) -> None:
        self.previous.append(
            {"order_id": self.order_id, "waybill": self.waybill, "status": self.status.value}
        )
        self.attempt += 1
        self.status, self.waybill, self.failures = LegStatus.REQUESTED, None, 0
        self.trouble, self.detail, self.updated_at = None, "", at


def order_id(case: str, kind: str, attempt: int) -> str:
    """``BC20261102123456-P1``: the case, the leg, the attempt; safe for SF's orderId."""
    return f"{case}-{_LEG_LETTER[kind]}{attempt}"


def new_leg(
    case: str,
    kind: str,
    *,
    department: str,
    applicant_id: str,
    address: MailingAddress,
    window: TimeWindow,
    at: datetime,
) -> Leg:
    if kind not in LEGS:
        raise ValueError(f"unknown leg {kind!r}")
    return Leg(case, kind, department, applicant_id, address, window, updated_at=at)


def first_window(now: datetime) -> TimeWindow:
    """The earliest window offered now: when a delivery is collected at the counter."""
    return offered_windows(now, days=2)[0]
