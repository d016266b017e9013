"""A case's payments as its ledger keeps them: orders (one per attempt), payments, refunds, in fen.

The law this encodes: only the catalog's fee is charged (清单之外无收费), and a case keeps exactly
what it owes: paid − refunded = the fee while the case stands, 0 once it is withdrawn or refused.
A second payment for the same case (two cashier pages paid) is refunded, never kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from app.domain.case_states import State
from app.domain.cases import Case
from app.domain.catalog import yuan

ORDER_LIFETIME = timedelta(minutes=30)  # the cashier closes the trade unpaid after this
REUSE_MARGIN = timedelta(minutes=5)  # an open order with less left gets a fresh attempt
REFUNDABLE_ENDS = frozenset({State.WITHDRAWN, State.REJECTED})
SUBJECT_MAX = 128  # Alipay allows 256 characters; a case number and a matter name fit well


class OrderStatus(StrEnum):
    OPEN = "open"  # a cashier page may be paid
    PAID = "paid"
    CLOSED = "closed"  # timed out or closed unpaid: can never be paid


@dataclass
class Order:
    """One payment attempt with its own out_trade_no; the amount is the case's catalog fee."""

    out_trade_no: str
    case: str
    amount_fen: int
    subject: str
    created_at: datetime
    expires_at: datetime
    status: OrderStatus = OrderStatus.OPEN
    trade_no: str = ""
    paid_at: datetime | None = None
    settled_by: str = ""  # notice | query: which answer of Alipay's settled it first
    version: int = 0

    def reusable(self, now: datetime) -> bool:
        """Open with time left to pay: a second tap on 去支付 opens the same trade."""
        return self.status is OrderStatus.OPEN and self.expires_at - now > REUSE_MARGIN

    def settle(self, trade_no: str, paid_at: datetime, by: str) -> bool:
        """Mark it paid; False when it already was (a repeated notice, or the query won)."""
        if self.status is OrderStatus.PAID:
            return False
        self.status, self.trade_no, self.paid_at, self.settled_by = (
            OrderStatus.PAID,
            trade_no,
            paid_at,
            by,
        )
        return True


def new_order(case: Case, attempt: int, now: datetime) -> Order:
    """Attempt ``attempt`` (1-based) at ``case``'s fee; the amount comes from the catalog."""
    subject = f"{case.terms.name}（办件 {case.number}）"[:SUBJECT_MAX]
    return Order(
        out_trade_no=f"{case.number}P{attempt:02d}",
        case=case.number,
        amount_fen=case.terms.fee_fen,
        subject=subject,
        created_at=now,
        expires_at=now + ORDER_LIFETIME,
    )


@dataclass(frozen=True)
class Refund:
    """Money sent back from one payment; ``out_request_no`` makes asking again harmless."""

    out_request_no: str
    out_trade_no: str
    amount_fen: int
    reason: str
    requested_at: datetime
    done_at: datetime | None = None


@dataclass
class Ledger:
    """Every payment received and every refund promised or made for one case."""

    case: str
    payments: dict[str, int] = field(default_factory=dict)  # out_trade_no -> fen, in order
    refunds: list[Refund] = field(default_factory=list)
    version: int = 0

    @property
    def paid_fen(self) -> int:
        return sum(self.payments.values())

    @property
    def refunded_fen(self) -> int:
        """Refunds Alipay has confirmed."""
        return sum(r.amount_fen for r in self.refunds if r.done_at is not None)

    @property
    def held_fen(self) -> int:
        """What the case keeps once every promised refund is made."""
        return self.paid_fen - sum(r.amount_fen for r in self.refunds)

    def record_payment(self, out_trade_no: str, amount_fen: int) -> bool:
        """False if this payment is already in the ledger."""
        if out_trade_no in self.payments:
            return False
        self.payments[out_trade_no] = amount_fen
        return True

    def plan_refunds(self, owed_fen: int, reason: str, at: datetime) -> list[Refund]:
        """The refunds that bring what is held down to ``owed_fen``, added to the ledger.

        The latest payments go back first, so the one that counts is the first received; no
        payment is ever refunded beyond what it brought in.
        """
        excess = self.held_fen - owed_fen
        planned: list[Refund] = []
        for out_trade_no in reversed(self.payments):
            if excess <= 0:
                break
            mine = [r for r in self.refunds if r.out_trade_no == out_trade_no]
            room = self.payments[out_trade_no] - sum(r.amount_fen for r in mine)
            amount = min(room, excess)
            if amount <= 0:
                continue
            refund = Refund(f"{out_trade_no}R{len(mine) + 1}", out_trade_no, amount, reason, at)
            self.refunds.append(refund)
            planned.append(refund)
            excess -= amount
        return planned

    def refund(self, out_request_no: str) -> Refund:
        for refund in self.refunds:
            if refund.out_request_no == out_request_no:
                return refund
        raise KeyError(out_request_no)

    def complete(self, out_request_no: str, at: datetime) -> bool:
        """Mark a refund made; False if it already was."""
        refund = self.refund(out_request_no)
        if refund.done_at is not None:
            return False
        self.refunds[self.refunds.index(refund)] = replace(refund, done_at=at)
        return True


def owed_fen(case: Case) -> int:
    """What the case should keep: the fee once paid, unless the case ended without a result."""
    if not case.fee_paid or case.state in REFUNDABLE_ENDS:
        return 0
    return case.terms.fee_fen


def refund_reason(case: Case) -> str:
    if case.state is State.WITHDRAWN:
        return "办件已撤回"
    if case.state is State.REJECTED:
        return "不予许可"
    return "重复缴费"


# -- what the applicant reads -------------------------------------------------------------------


def fee_lines(case: Case) -> list[str]:
    """The fee items with their legal basis and the total, as the applicant reads them."""
    lines = [
        f"{n}. {f.name} {yuan(f.amount_fen)}（依据：{f.basis}）"
        for n, f in enumerate(case.terms.fees, start=1)
    ]
    if not lines:  # a case from before fee items were kept on it
        lines = [f"1. {case.terms.name} 收费 {yuan(case.terms.fee_fen)}"]
    return [*lines, f"合计 {yuan(case.terms.fee_fen)}"]


def payment_request_text(case: Case) -> str:
    when = "按规定本事项先缴费后审核" if case.terms.pay_before_review else "预审已通过"
    return "\n".join(
        [
            f"您的办件 {case.number}（{case.terms.name}）{when}，请缴纳以下费用：",
            *fee_lines(case),
            "以上为收费清单公布的全部费用，清单之外不收取任何费用。请点击下方链接用支付宝缴费。",
        ]
    )


def paid_text(case: Case) -> str:
    after = "，办件已进入预审" if case.state is State.SUBMITTED else ""
    return (
        f"已收到您为办件 {case.number}（{case.terms.name}）缴纳的 {yuan(case.terms.fee_fen)}"
        f"{after}，感谢您的配合"
    )


def refund_text(case: Case, refund: Refund) -> str:
    return (
        f"您的办件 {case.number}（{case.terms.name}）已退款 {yuan(refund.amount_fen)}"
        f"（原因：{refund.reason}），款项将原路退回您的支付宝账户，一般 1 至 3 个工作日到账"
    )
