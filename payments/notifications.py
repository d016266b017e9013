"""Alipay's asynchronous notification, verified: signature first, then that it is about our order.

Pure and synchronous: the endpoint parses the form, looks up the order named by the (still
untrusted) ``out_trade_no``, calls ``verify_notification``, and records what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from payments.port import PaymentError, TradeStatus, fen
from payments.signing import notification_content, rsa2_verify


class NotificationRejected(PaymentError):
    """Not a notification we may act on; ``reason`` is for the supervisors' record."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ExpectedOrder:
    """What we asked Alipay to collect, from our own records."""

    out_trade_no: str
    amount_fen: int


@dataclass(frozen=True)
class AlipayAccount:
    """Who notifications must come from and be for: our app, our seller, Alipay's key."""

    app_id: str
    seller_id: str
    alipay_public_key: rsa.RSAPublicKey

    def __repr__(self) -> str:
        return f"AlipayAccount(app_id={self.app_id!r}, seller_id={self.seller_id!r})"

    def verify(self, params: Mapping[str, str], order: ExpectedOrder) -> Notification:
        return verify_notification(
            params,
            alipay_public_key=self.alipay_public_key,
            app_id=self.app_id,
            seller_id=self.seller_id,
            order=order,
        )


@dataclass(frozen=True)
class Notification:
    """A verified notification about one of our orders."""

    notify_id: str
    out_trade_no: str
    trade_no: str
    status: TradeStatus
    total_fen: int
    refunded_fen: int

    @property
    def paid(self) -> bool:
        return self.status.paid


def claimed_out_trade_no(params: Mapping[str, str]) -> str:
    """The order a notification claims to be about: only to find it, nothing is trusted yet."""
    return params.get("out_trade_no", "")


def verify_notification(
    params: Mapping[str, str],
    *,
    alipay_public_key: rsa.RSAPublicKey,
    app_id: str,
    seller_id: str,
    order: ExpectedOrder,
) -> Notification:
    """The notification if Alipay signed it and it is about ``order``, else NotificationRejected."""
    if params.get("sign_type", "RSA2") != "RSA2":
        raise NotificationRejected(f"sign_type {params.get('sign_type')!r} is not RSA2")
    sign = params.get("sign", "")
    if not sign or not rsa2_verify(alipay_public_key, notification_content(params), sign):
        raise NotificationRejected("bad signature")
    mismatches = [
        name
        for name, expected in (
            ("app_id", app_id),
            ("seller_id", seller_id),
            ("out_trade_no", order.out_trade_no),
        )
        if params.get(name) != expected
    ]
    if mismatches:
        raise NotificationRejected("not our order: " + ", ".join(mismatches))
    try:
        total = fen(params.get("total_amount", ""))
        refunded = fen(params["refund_fee"]) if params.get("refund_fee") else 0
        status = TradeStatus(params.get("trade_status", ""))
    except ValueError as e:
        raise NotificationRejected(f"malformed: {e}") from None
    if total != order.amount_fen:
        raise NotificationRejected(f"total_amount {total} fen, the order says {order.amount_fen}")
    return Notification(
        notify_id=params.get("notify_id", ""),
        out_trade_no=order.out_trade_no,
        trade_no=params.get("trade_no", ""),
        status=status,
        total_fen=total,
        refunded_fen=refunded,
    )
