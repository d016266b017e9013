"""Courier rules without I/O: addresses, pickup windows, a leg's orders, who may scan what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.actors import SYSTEM, Actor, Role
from app.domain.case_states import Action, State
from app.domain.cases import CHINA, Case, MatterTerms, Slot
from app.domain.custody import Step, check_scan, due_step, mover
from app.domain.errors import InvalidTransition, NotPermitted, ValidationFailed
from app.domain.shipments import (
    BOOKING_FAILED,
    FLAG_AFTER_FAILURES,
    PICKUP,
    Leg,
    LegStatus,
    MailingAddress,
    chosen_window,
    new_leg,
    offered_windows,
)

GOOD = {
    "name": " 张三 ",
    "mobile": "138 1234 5678",
    "province": "福建省",
    "city": "福州市",
    "district": "鼓楼区",
    "detail": "五一北路  123 号 2 栋 301",
}
MONDAY_9 = datetime(2026, 11, 2, 9, 0, tzinfo=CHINA)
COURIER = Actor("demo-courier", Role.COURIER)
CLERK = Actor("reviewer-jtys", Role.REVIEWER, department="jtys")


def test_an_address_is_trimmed_and_masked_for_everyone_but_its_owner() -> None:
    address = MailingAddress.parse(GOOD)
    assert address.name == "张三" and address.mobile == "13812345678"
    assert address.detail == "五一北路 123 号 2 栋 301"
    assert address.masked() == "张* 138****5678 福建省福州市鼓楼区***"
    assert "五一北路" not in repr(address) and "13812345678" not in repr(address)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("mobile", "1381234567", "11 位手机号码"),
        ("mobile", "23812345678", "11 位手机号码"),
        ("province", "福建", "请选择省份"),
        ("city", "", "请填写城市"),
        ("district", "区", "区县应为 2 到 20 个字"),
        ("detail", "1号", "详细地址应为 5 到 120 个字"),
        ("detail", "x" * 121, "详细地址应为 5 到 120 个字"),
        ("name", "<script>", "含有无法识别的字符"),
    ],
)
def test_a_bad_address_part_is_named(field: str, value: str, says: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        MailingAddress.parse(GOOD | {field: value})
    assert says in refused.value.message


def test_every_problem_of_an_address_is_told_at_once() -> None:
    with pytest.raises(ValidationFailed) as refused:
        MailingAddress.parse({"mobile": "123"})
    message = refused.value.message
    for part in ("收件人姓名", "城市", "区县", "详细地址", "手机号码", "省份"):
        assert part in message


def test_pickup_windows_start_an_hour_ahead_in_beijing_time() -> None:
    windows = offered_windows(MONDAY_9.astimezone(UTC))
    assert windows[0].start == datetime(2026, 11, 2, 11, tzinfo=CHINA)
    assert windows[0].label() == "11月2日（周一）11:00–13:00"
    assert all(w.end - w.start == timedelta(hours=2) for w in windows)
    assert len(windows) == 15 and windows[-1].start.date() == datetime(2026, 11, 5).date()
    assert chosen_window("2026-11-02T13:00", MONDAY_9) == windows[1]
    with pytest.raises(ValidationFailed):
        chosen_window("2026-11-02T09:00", MONDAY_9)  # too soon for the courier


def _leg() -> Leg:
    address = MailingAddress.parse(GOOD)
    window = offered_windows(MONDAY_9)[0]
    return new_leg(
        "BC20261102000001",
        PICKUP,
        department="jtys",
        applicant_id="demo-citizen",
        address=address,
        window=window,
        at=MONDAY_9,
    )


def test_a_rebooking_takes_the_next_order_id_and_cancels_the_live_one() -> None:
    leg = _leg()
    assert leg.order_id == "BC20261102000001-P1"
    assert leg.booked("BC20261102000001-P1", "SF1", MONDAY_9)
    old = leg.rebook(leg.address, offered_windows(MONDAY_9)[2], MONDAY_9)
    assert old == "BC20261102000001-P1" and leg.order_id == "BC20261102000001-P2"
    assert leg.status is LegStatus.REQUESTED and leg.waybill is None
    assert not leg.booked("BC20261102000001-P1", "SF1", MONDAY_9)  # a late answer for P1
    assert leg.previous == [
        {"order_id": "BC20261102000001-P1", "waybill": "SF1", "status": "booked"}
    ]


def test_failures_raise_the_flag_once_and_a_refusal_at_once() -> None:
    leg = _leg()
    raised = [leg.failed(leg.order_id, "timeout", MONDAY_9) for _ in range(FLAG_AFTER_FAILURES + 1)]
    assert raised == [False] * (FLAG_AFTER_FAILURES - 1) + [True, False]
    assert leg.trouble == BOOKING_FAILED and leg.status is LegStatus.REQUESTED
    other = _leg()
    assert other.refused(other.order_id, "filterResult=3", MONDAY_9)
    assert other.trouble == BOOKING_FAILED and other.status is LegStatus.REFUSED
    other.rebook(other.address, other.window, MONDAY_9)
    assert other.trouble is None and other.order_id.endswith("-P2")


def _case(state: State, *, originals: bool = True) -> Case:
    terms = MatterTerms(
        "M1", 1, "从业资格证换证", "jtys", 3, 0, originals, (Slot("a", "材料", True),)
    )
    case = Case.open("BC20261102000001", terms, Actor("demo-citizen", Role.APPLICANT), MONDAY_9)
    case.state = state
    return case


def test_each_hand_over_is_due_in_one_state_and_scanned_by_one_side() -> None:
    assert due_step(_case(State.AWAITING_PICKUP)) is Step.PICKUP
    assert due_step(_case(State.ORIGINALS_IN_TRANSIT)) is Step.ARRIVAL
    assert due_step(_case(State.CERTIFICATE_ISSUED)) is Step.DISPATCH
    assert due_step(_case(State.CERTIFICATE_ISSUED, originals=False)) is None
    assert (
        check_scan(_case(State.AWAITING_PICKUP), Step.PICKUP, COURIER) is Action.COLLECT_ORIGINALS
    )
    assert check_scan(_case(State.ORIGINALS_IN_TRANSIT), Step.ARRIVAL, CLERK) is (
        Action.RECEIVE_ORIGINALS
    )
    with pytest.raises(InvalidTransition):  # scanned already: the case moved on
        check_scan(_case(State.ORIGINALS_IN_TRANSIT), Step.PICKUP, COURIER)
    with pytest.raises(NotPermitted):
        check_scan(_case(State.AWAITING_PICKUP), Step.PICKUP, CLERK)
    with pytest.raises(NotPermitted):
        stranger = Actor("reviewer-mz", Role.REVIEWER, department="mz")
        check_scan(_case(State.ORIGINALS_IN_TRANSIT), Step.ARRIVAL, stranger)


def test_at_dispatch_the_courier_who_showed_the_code_takes_the_certificate() -> None:
    assert mover(Step.DISPATCH, CLERK, COURIER) == COURIER
    assert mover(Step.DISPATCH, CLERK, None) == SYSTEM
    assert mover(Step.ARRIVAL, CLERK, COURIER) == CLERK
    case = _case(State.CERTIFICATE_ISSUED)
    case.act(Action.DISPATCH_DELIVERY, mover(Step.DISPATCH, CLERK, COURIER), MONDAY_9)
    assert case.state is State.DELIVERING
