"""What a case owes and keeps: the ledger's refund plan, and a fee paid before review."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from app.domain.actors import Actor, Role
from app.domain.case_states import Action, State
from app.domain.cases import CHINA, Case, MaterialRef, MatterTerms, Slot
from app.domain.errors import InvalidTransition, NotPermitted
from app.domain.payments import Ledger, owed_fen

CITIZEN = Actor("u1", Role.APPLICANT)
REVIEWER = Actor("r1", Role.REVIEWER, department="ga")
SYSTEM = Actor("system", Role.SYSTEM)
AT = datetime(2026, 11, 2, 10, tzinfo=CHINA)
TERMS = MatterTerms(
    code="M", version=1, name="驾驶证换证", department="ga", limit_days=10,
    fee_fen=1000, originals_required=False, slots=(Slot("id", "身份证", True),),
)  # fmt: skip


def case(*, before_review: bool) -> Case:
    c = Case.open("BC1", replace(TERMS, pay_before_review=before_review), CITIZEN, AT)
    c.attach("id", MaterialRef("k", "image/jpeg", 1, "0" * 64), CITIZEN, AT)
    c.submit(CITIZEN, AT)
    return c


def test_the_latest_payments_go_back_first_and_none_beyond_what_it_brought() -> None:
    ledger = Ledger("BC1", {"P01": 1000, "P02": 600})
    [refund] = ledger.plan_refunds(1000, "重复缴费", AT)
    assert (refund.out_trade_no, refund.amount_fen, refund.out_request_no) == ("P02", 600, "P02R1")
    assert ledger.plan_refunds(1000, "重复缴费", AT) == []  # planned once, not again

    refunds = ledger.plan_refunds(0, "办件已撤回", AT)  # then the case is withdrawn
    assert [(r.out_request_no, r.amount_fen) for r in refunds] == [("P01R1", 1000)]
    assert ledger.held_fen == 0 and ledger.refunded_fen == 0  # promised, not yet made


def test_a_partial_refund_leaves_the_rest_and_a_made_refund_is_made_once() -> None:
    ledger = Ledger("BC1", {"P01": 1000})
    [part] = ledger.plan_refunds(700, "多收部分", AT)
    assert part.amount_fen == 300
    assert ledger.complete(part.out_request_no, AT) is True
    assert ledger.complete(part.out_request_no, AT) is False
    [rest] = ledger.plan_refunds(0, "办件已撤回", AT)
    assert (rest.out_request_no, rest.amount_fen) == ("P01R2", 700)
    ledger.complete(rest.out_request_no, AT)
    assert ledger.paid_fen - ledger.refunded_fen == 0


def test_a_fee_paid_before_review_puts_the_case_in_the_queue_and_is_not_asked_again() -> None:
    c = case(before_review=True)
    assert c.state is State.AWAITING_PAYMENT
    with pytest.raises(InvalidTransition):
        c.approve(REVIEWER, AT)  # nobody reviews an unpaid pay-first case
    received = c.window_start
    c.confirm_payment(SYSTEM, AT + timedelta(days=3), trade_no="T1")
    assert c.state is State.SUBMITTED and c.fee_paid
    assert c.window_start == received  # Art. 32 runs from receipt: paying is not receiving
    c.approve(REVIEWER, AT)
    assert c.state is State.APPROVED
    assert owed_fen(c) == 1000


def test_after_approval_the_fee_is_asked_and_a_refused_case_owes_nothing() -> None:
    c = case(before_review=False)
    assert c.state is State.SUBMITTED and owed_fen(c) == 0
    c.approve(REVIEWER, AT)
    assert c.state is State.AWAITING_PAYMENT
    c.confirm_payment(SYSTEM, AT)
    assert c.state is State.PAID and owed_fen(c) == 1000
    c.act(Action.WITHDRAW, CITIZEN, AT)
    assert owed_fen(c) == 0


def test_only_the_system_confirms_a_payment() -> None:
    c = case(before_review=True)
    for who in (CITIZEN, REVIEWER):
        with pytest.raises(NotPermitted):
            c.confirm_payment(who, AT)
    assert c.state is State.AWAITING_PAYMENT


def test_a_fee_and_originals_ask_for_the_fee_first_then_call_the_courier() -> None:
    c = Case.open("BC1", replace(TERMS, originals_required=True), CITIZEN, AT)
    c.attach("id", MaterialRef("k", "image/jpeg", 1, "0" * 64), CITIZEN, AT)
    c.submit(CITIZEN, AT)
    c.approve(REVIEWER, AT)
    assert c.state is State.AWAITING_PAYMENT  # nobody comes to the door for an unpaid case
    c.confirm_payment(SYSTEM, AT, trade_no="T1")
    assert c.state is State.AWAITING_PICKUP and owed_fen(c) == 1000
    c.act(Action.WITHDRAW, CITIZEN, AT)  # called off before the courier came
    assert owed_fen(c) == 0  # so the fee goes back
