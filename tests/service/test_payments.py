"""Catalog fees paid through Alipay (the local one): never lost, never counted twice, never kept
when not owed. After every scenario the case's ledger adds up: paid − refunded = owed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.domain.actors import Actor, Role
from app.domain.case_states import Action, State
from app.domain.errors import InvalidTransition, NotFoundError, NotPermitted
from app.domain.payments import OrderStatus
from app.services.case_effects import SETTLE_TOPIC
from app.services.payment_issues import PER_SENDER_HOUR
from app.services.payment_reconciliation import QUIET
from app.services.payment_records import ISSUES, NOTICES
from app.services.payment_settlement import REFUND_TOPIC
from app.settings import Settings
from payments.signing import new_key_pair
from storage.sqlite import SqliteDocumentStore
from tests.conftest import Clock
from tests.service.payment_rig import AFTER_APPROVAL_CODE, ME, STRANGER, Rig, build_rig


@pytest.fixture(scope="module")
def app_key() -> rsa.RSAPrivateKey:
    return new_key_pair()


@pytest.fixture(scope="module")
def alipay_key() -> rsa.RSAPrivateKey:
    return new_key_pair()


@pytest.fixture
async def rig(
    store: SqliteDocumentStore,
    settings: Settings,
    clock: Clock,
    app_key: rsa.RSAPrivateKey,
    alipay_key: rsa.RSAPrivateKey,
) -> AsyncIterator[Rig]:
    rig, cleanup = await build_rig(store, settings, clock, app_key, alipay_key)
    yield rig
    await rig.sim.notifier.close()
    for item in cleanup:
        await (item.cleanup() if hasattr(item, "cleanup") else item.close())


async def test_after_approval_the_fee_is_asked_with_its_basis_and_paid_once(rig: Rig) -> None:
    number = await rig.open(AFTER_APPROVAL_CODE)
    assert await rig.state(number) is State.AWAITING_PAYMENT
    [asked] = [t for t in rig.chat if "请缴纳以下费用" in t]
    assert "机动车驾驶证工本费 10.00 元" in asked and "依据：" in asked and "合计 10.00 元" in asked

    await rig.pay(number)

    assert await rig.state(number) is State.PAID
    assert any("已收到您为办件" in t and "10.00 元" in t for t in rig.chat)
    [delivery] = rig.sim.notifier.deliveries
    assert delivery.attempts == ["200 success"]  # answered at the first attempt
    assert await rig.balance(number) == (1000, 0, 1000)


async def test_a_matter_paid_before_review_reaches_the_queue_only_once_paid(rig: Rig) -> None:
    number = await rig.open()  # the demo's driving licence renewal
    assert await rig.state(number) is State.AWAITING_PAYMENT
    assert any("先缴费后审核" in t for t in rig.chat)

    await rig.pay(number)
    assert await rig.state(number) is State.SUBMITTED
    assert any("办件已进入预审" in t for t in rig.chat)

    case = await rig.cases.get(ME, number)
    reviewer = Actor("rev", Role.REVIEWER, department=case.terms.department)
    case = await rig.cases.approve(reviewer, number, version=None)
    assert case.state is State.APPROVED  # nothing asked a second time
    assert (await rig.balance(number)) == (1000, 0, 1000)


async def test_a_repeated_notice_is_answered_success_and_changes_nothing(rig: Rig) -> None:
    number = await rig.open(AFTER_APPROVAL_CODE)
    await rig.pay(number)
    events = await rig.events(number)
    first = rig.sim.notifier.deliveries[0]

    for _ in range(3):  # Alipay repeating it: signed afresh, the same notify_id
        assert await rig.send_notice(first.params) == "success"
    await rig.run_jobs()

    assert await rig.events(number) == events
    assert await rig.balance(number) == (1000, 0, 1000)
    assert await rig.store.count(NOTICES, {"case": number}) == 1


async def test_notices_out_of_order_settle_the_order_once_and_a_late_closed_one_changes_nothing(
    rig: Rig,
) -> None:
    number = await rig.open(AFTER_APPROVAL_CODE)
    trade_no = await rig.open_cashier(number)
    rig.sim.ledger.pay(trade_no)  # paid; Alipay's notices arrive in whatever order they come
    [order] = await rig.payments.orders(number)
    base = {
        "notify_type": "trade_status_sync",
        "app_id": rig.sim.app_id,
        "seller_id": rig.sim.seller_id,
        "out_trade_no": order.out_trade_no,
        "trade_no": trade_no,
        "total_amount": "10.00",
    }
    statuses = ("TRADE_FINISHED", "WAIT_BUYER_PAY", "TRADE_SUCCESS", "TRADE_CLOSED")
    for n, status in enumerate(statuses):
        notice = base | {"notify_id": f"n{n}", "trade_status": status}
        assert await rig.send_notice(notice) == "success"
        await rig.run_jobs()

    assert (await rig.events(number)).count("confirm_payment") == 1
    assert await rig.state(number) is State.PAID
    [order] = await rig.payments.orders(number)
    assert order.status is OrderStatus.PAID and order.settled_by == "notice"
    assert await rig.balance(number) == (1000, 0, 1000)
    assert sum("已收到您为办件" in t for t in rig.chat) == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"total_amount": "0.01"}, "total_amount"),
        ({"app_id": "2021000000000999"}, "app_id"),
        ({"seller_id": "2088000000000001"}, "seller_id"),
        ({"out_trade_no": "BC20991231000000P01"}, "unknown out_trade_no"),
    ],
)
async def test_a_notice_about_another_amount_app_or_order_is_refused_and_kept_for_supervisors(
    rig: Rig, change: dict[str, str], reason: str
) -> None:
    number = await rig.open(AFTER_APPROVAL_CODE)
    await rig.pay(number)
    events = await rig.events(number)
    paid = rig.sim.notifier.deliveries[0].params
    # Signed by Alipay's own key, but not about what we asked: refused all the same.
    assert await rig.send_notice(paid | change | {"notify_id": "other"}) == "fail"
    await rig.run_jobs()

    [issue] = await rig.store.find(ISSUES, {"source": "notice"})
    assert reason in issue["reason"]
    assert await rig.events(number) == events
    assert await rig.balance(number) == (1000, 0, 1000)


async def test_a_notice_signed_by_anyone_but_alipay_changes_nothing(rig: Rig) -> None:
    number = await rig.open(AFTER_APPROVAL_CODE)
    trade_no = await rig.open_cashier(number)
    [order] = await rig.payments.orders(number)
    params = {
        "notify_id": "forged-1",
        "notify_type": "trade_status_sync",
        "app_id": rig.sim.app_id,
        "seller_id": rig.sim.seller_id,
        "out_trade_no": order.out_trade_no,
        "trade_no": trade_no,
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "10.00",
    }
    assert await rig.send_notice(params, key=new_key_pair()) == "fail"  # not Alipay's key
    await rig.run_jobs()
    assert await rig.state(number) is State.AWAITING_PAYMENT
    assert (await rig.payments.orders(number))[0].status is OrderStatus.OPEN
    assert await rig.store.count(ISSUES, {"reason": "bad signature"}) == 1


async def test_a_crash_after_the_notice_is_recorded_is_finished_on_restart(rig: Rig) -> None:
    number = await rig.open(AFTER_APPROVAL_CODE)
    rig.failing = {SETTLE_TOPIC}  # the process dies before the case moves on
    await rig.pay(number)
    assert await rig.state(number) is State.AWAITING_PAYMENT
    assert rig.sim.notifier.deliveries[0].attempts == ["200 success"]  # recorded, answered

    rig.failing = set()  # restarted: the outbox still holds the job
    rig.clock.advance(minutes=5)  # past the failed attempt's backoff
    await rig.run_jobs()
    assert await rig.state(number) is State.PAID
    assert await rig.balance(number) == (1000, 0, 1000)


async def test_a_notice_and_the_query_settling_the_same_order_at_once_count_it_once(
    rig: Rig,
) -> None:
    number = await rig.open(AFTER_APPROVAL_CODE)
    trade_no = await rig.open_cashier(number)
    rig.sim.ledger.pay(trade_no)  # paid, the notice not sent yet
    [trade] = rig.sim.ledger.trades.values()
    rig.clock.advance(seconds=QUIET.total_seconds() + 1)

    async def notice() -> None:
        rig.sim.notify(trade)
        await rig.sim.notifier.idle()

    await asyncio.gather(notice(), rig.payments.reconcile(), rig.payments.reconcile())
    await rig.run_jobs()

    assert (await rig.events(number)).count("confirm_payment") == 1
    assert await rig.balance(number) == (1000, 0, 1000)
    [order] = await rig.payments.orders(number)
    assert order.settled_by in {"notice", "query"}


async def test_a_lost_notice_is_found_by_reconciliation_and_an_unpaid_page_is_closed(
    rig: Rig,
) -> None:
    paid, unpaid = await rig.open(AFTER_APPROVAL_CODE), await rig.open(AFTER_APPROVAL_CODE)
    rig.sim.ledger.pay(await rig.open_cashier(paid))  # Alipay never manages to tell us
    await rig.open_cashier(unpaid)
    rig.clock.advance(minutes=3)
    assert await rig.payments.reconcile() == 1
    await rig.run_jobs()
    assert await rig.state(paid) is State.PAID

    rig.clock.advance(minutes=30)  # the unpaid page's time is up
    assert await rig.payments.reconcile() == 1
    [order] = await rig.payments.orders(unpaid)
    assert order.status is OrderStatus.CLOSED
    [trade] = [t for t in rig.sim.ledger.trades.values() if t.out_trade_no == order.out_trade_no]
    assert trade.status.value == "TRADE_CLOSED"  # and no late payment can reach it
    assert await rig.state(unpaid) is State.AWAITING_PAYMENT  # free to try again


async def test_withdrawal_after_payment_refunds_and_tells_the_applicant(rig: Rig) -> None:
    number = await rig.open(AFTER_APPROVAL_CODE)
    await rig.pay(number)
    await rig.cases.act(ME, number, Action.WITHDRAW, version=None, reason="不办了")
    await rig.run_jobs()

    assert await rig.balance(number) == (1000, 1000, 0)
    assert any("已退款 10.00 元" in t and "办件已撤回" in t for t in rig.chat)
    [trade] = rig.sim.ledger.trades.values()
    assert trade.refunded_fen == 1000


async def test_a_case_refused_after_payment_is_refunded_and_the_applicant_told(rig: Rig) -> None:
    number = await rig.open()  # paid before review
    await rig.pay(number)
    case = await rig.cases.get(ME, number)
    reviewer = Actor("rev", Role.REVIEWER, department=case.terms.department)
    basis = "《机动车驾驶证申领和使用规定》"
    await rig.cases.reject(reviewer, number, "驾驶证已注销", basis, version=None)
    await rig.run_jobs()
    await rig.run_jobs()  # asked twice: the refund job is idempotent

    assert await rig.state(number) is State.REJECTED
    assert await rig.balance(number) == (1000, 1000, 0)
    [trade] = rig.sim.ledger.trades.values()
    assert trade.refunded_fen == 1000
    assert sum("已退款 10.00 元" in t for t in rig.chat) == 1


async def test_a_payment_arriving_after_withdrawal_is_given_back(rig: Rig) -> None:
    number = await rig.open(AFTER_APPROVAL_CODE)
    rig.sim.ledger.pay(await rig.open_cashier(number))  # paid; the notice still on its way
    await rig.cases.act(ME, number, Action.WITHDRAW, version=None, reason="不办了")
    await rig.run_jobs()  # closing the page is refused: it is paid
    [trade] = rig.sim.ledger.trades.values()
    rig.sim.notify(trade)
    await rig.sim.notifier.idle()
    await rig.run_jobs()

    assert await rig.state(number) is State.WITHDRAWN
    assert await rig.balance(number) == (1000, 1000, 0)
    assert trade.refunded_fen == 1000


async def test_two_pages_paid_for_one_case_keep_one_payment(rig: Rig) -> None:
    number = await rig.open(AFTER_APPROVAL_CODE)
    first = await rig.open_cashier(number)
    rig.clock.advance(minutes=26)  # too little time left on the first page: a second one
    second = await rig.open_cashier(number)
    # Both pages paid before the close of the first reached Alipay (two phones, say).
    rig.sim.ledger.pay(first)
    await rig.tap_pay(second)
    for trade in rig.sim.ledger.trades.values():
        if trade.trade_no == first:
            rig.sim.notify(trade)
    await rig.sim.notifier.idle()
    await rig.run_jobs()

    assert await rig.state(number) is State.PAID
    assert await rig.balance(number) == (2000, 1000, 1000)
    assert any("重复缴费" in t for t in rig.chat)


async def test_a_refund_repeated_after_a_crash_moves_the_money_once(rig: Rig) -> None:
    number = await rig.open(AFTER_APPROVAL_CODE)
    await rig.pay(number)
    rig.failing = {REFUND_TOPIC}
    await rig.cases.act(ME, number, Action.WITHDRAW, version=None, reason="不办了")
    await rig.run_jobs()  # the refund is promised in the ledger, its job down
    ledger = await rig.payments.ledger(number)
    [refund] = ledger.refunds
    # Alipay did refund, then we crashed before writing it down.
    await rig.payments._gateway.refund(  # type: ignore[union-attr]
        refund.out_trade_no, amount_fen=1000, out_request_no=refund.out_request_no, reason="x"
    )
    rig.failing = set()
    rig.clock.advance(minutes=5)
    await rig.run_jobs()
    await rig.run_jobs()

    [trade] = rig.sim.ledger.trades.values()
    assert trade.refunded_fen == 1000
    assert await rig.balance(number) == (1000, 1000, 0)
    assert sum("已退款" in t for t in rig.chat) == 1


async def test_only_the_owner_pays_and_only_while_payment_is_due(rig: Rig) -> None:
    number = await rig.open(AFTER_APPROVAL_CODE)
    with pytest.raises(NotFoundError):
        await rig.payments.checkout(STRANGER, number)
    first = await rig.payments.checkout(ME, number)
    again = await rig.payments.checkout(ME, number)
    assert again.order.out_trade_no == first.order.out_trade_no  # a second tap: the same trade
    await rig.pay(number)
    with pytest.raises(InvalidTransition):
        await rig.payments.checkout(ME, number)


async def test_supervisors_see_money_in_and_out_and_every_refused_notice(rig: Rig) -> None:
    number = await rig.open(AFTER_APPROVAL_CODE)
    await rig.pay(number)
    await rig.cases.act(ME, number, Action.WITHDRAW, version=None, reason="不办了")
    await rig.run_jobs()
    paid = rig.sim.notifier.deliveries[0].params
    assert await rig.send_notice(paid | {"total_amount": "1000.00"}) == "fail"
    assert await rig.send_notice(paid | {"total_amount": "1000.00"}) == "fail"  # kept once

    figures = await rig.payments.figures(30)
    assert (figures["collected_fen"], figures["payments"]) == (1000, 1)
    assert (figures["refunded_fen"], figures["refunds"]) == (1000, 1)
    assert figures["issue_count"] == 1
    assert "total_amount 100000 fen" in figures["issues"][0]["reason"]


async def test_a_flood_of_forged_notices_is_kept_within_bounds_and_a_genuine_one_still_settles(
    rig: Rig,
) -> None:
    number = await rig.open(AFTER_APPROVAL_CODE)
    await rig.open_cashier(number)
    forger = new_key_pair()
    for n in range(PER_SENDER_HOUR + 5):  # each one different, so none is a repeat
        forged = {"notify_id": f"forged-{n}", "out_trade_no": f"BC2099123100{n:04d}P01",
                  "trade_status": "TRADE_SUCCESS", "total_amount": "10.00"}  # fmt: skip
        assert await rig.send_notice(forged, key=forger) == "fail"
    assert await rig.store.count(ISSUES, {"source": "notice"}) == PER_SENDER_HOUR
    figures = await rig.payments.figures(1)
    assert figures["issues_unkept"] == 5  # counted for the supervisors, not kept

    await rig.pay(number)  # Alipay's own notice, from the same address, is never turned away
    assert await rig.state(number) is not State.AWAITING_PAYMENT


async def test_a_refund_that_gave_up_is_shown_to_supervisors_and_sent_back_by_them(
    rig: Rig,
) -> None:
    number = await rig.open(AFTER_APPROVAL_CODE)
    await rig.pay(number)
    rig.failing = {REFUND_TOPIC}  # e.g. the merchant account ran dry
    await rig.cases.act(ME, number, Action.WITHDRAW, version=None, reason="不办了")
    await rig.run_jobs(max_attempts=1)
    [stuck] = (await rig.payments.figures(30))["stuck"]
    assert (stuck["topic"], stuck["case"]) == (REFUND_TOPIC, number)

    supervisor = Actor("sup", Role.SUPERVISOR)
    with pytest.raises(NotPermitted):
        await rig.payments.retry(ME, stuck["key"])
    rig.failing = set()
    await rig.payments.retry(supervisor, stuck["key"])
    with pytest.raises(InvalidTransition):
        await rig.payments.retry(supervisor, stuck["key"])  # already back in the queue
    await rig.run_jobs()

    assert await rig.balance(number) == (1000, 1000, 0)
    assert (await rig.payments.figures(30))["stuck"] == []
