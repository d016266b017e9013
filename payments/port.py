"""The payment port: what a use case may ask of a payment provider, in fen, with typed answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

_YUAN = re.compile(r"(0|[1-9][0-9]*)(?:\.([0-9]{1,2}))?")


class PaymentError(Exception):
    """Base of every error this package raises."""


class GatewayUnavailable(PaymentError):
    """The provider could not be reached, timed out, or answered something unsigned or unreadable.

    The outcome is unknown: ask again with the same out_trade_no / out_request_no.
    """


class GatewayRefused(PaymentError):
    """The provider answered, signed, that it will not do this (``sub_code`` says why)."""

    def __init__(self, sub_code: str, message: str) -> None:
        super().__init__(f"{sub_code}: {message}")
        self.sub_code = sub_code
        self.message = message


class TradeNotFound(GatewayRefused):
    """No trade with this out_trade_no: the cashier was never opened, or it is not ours."""


class RefundTooLarge(GatewayRefused):
    """The refunds of a trade would exceed what was paid."""


class RefundConflict(GatewayRefused):
    """An out_request_no was used before with a different amount."""


class TradeStatus(StrEnum):
    WAIT_BUYER_PAY = "WAIT_BUYER_PAY"
    TRADE_CLOSED = "TRADE_CLOSED"  # unpaid and timed out or closed, or paid and fully refunded
    TRADE_SUCCESS = "TRADE_SUCCESS"  # paid, refundable
    TRADE_FINISHED = "TRADE_FINISHED"  # paid, past the refund period

    @property
    def paid(self) -> bool:
        """Only these two mean the money arrived."""
        return self in (TradeStatus.TRADE_SUCCESS, TradeStatus.TRADE_FINISHED)


@dataclass(frozen=True)
class PaymentOrder:
    """One payment attempt: a fresh out_trade_no each time, an amount fixed by the catalog."""

    out_trade_no: str
    amount_fen: int
    subject: str
    expires_at: datetime  # timezone-aware; the provider closes the trade unpaid after it

    def __post_init__(self) -> None:
        if self.amount_fen <= 0:
            raise ValueError("amount_fen must be positive")
        if self.expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")


@dataclass(frozen=True)
class Trade:
    """The provider's view of one trade."""

    out_trade_no: str
    trade_no: str
    status: TradeStatus
    total_fen: int
    paid_at: datetime | None = None


@dataclass(frozen=True)
class RefundResult:
    """A refund request's outcome; ``refunded_fen`` is the trade's refunded total so far."""

    out_trade_no: str
    out_request_no: str
    refunded_fen: int
    fund_change: bool  # False: this out_request_no had already been refunded, no money moved


class PaymentGateway(Protocol):
    """A provider's mobile-web payments (AlipayGateway is the one adapter)."""

    async def create_payment(self, order: PaymentOrder, *, notify_url: str, return_url: str) -> str:
        """The cashier URL to send the payer's browser to; nothing is charged yet."""
        ...

    async def query(self, out_trade_no: str) -> Trade:
        """The trade as the provider holds it; TradeNotFound if it does not exist."""
        ...

    async def close(self, out_trade_no: str) -> None:
        """Close an unpaid trade so it can no longer be paid."""
        ...

    async def refund(
        self, out_trade_no: str, *, amount_fen: int, out_request_no: str, reason: str
    ) -> RefundResult:
        """Refund part or all; the same out_request_no never refunds twice."""
        ...


def yuan(fen: int) -> str:
    """Fen as the provider's amount string, e.g. 1050 -> "10.50"."""
    return f"{fen // 100}.{fen % 100:02d}"


def fen(amount: str) -> int:
    """A provider's amount string in fen; ValueError unless it is plain yuan with ≤ 2 decimals."""
    match = _YUAN.fullmatch(amount)
    if match is None:
        raise ValueError(f"not an amount in yuan: {amount!r}")
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
