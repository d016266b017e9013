"""Payments: the port, the Alipay adapter, notification checks; ``simulator`` is a local Alipay."""

from payments.alipay import AlipayGateway
from payments.notifications import (
    AlipayAccount,
    ExpectedOrder,
    Notification,
    NotificationRejected,
    claimed_out_trade_no,
    verify_notification,
)
from payments.port import (
    GatewayRefused,
    GatewayUnavailable,
    PaymentError,
    PaymentGateway,
    PaymentOrder,
    RefundConflict,
    RefundResult,
    RefundTooLarge,
    Trade,
    TradeNotFound,
    TradeStatus,
)

__all__ = [
    "AlipayAccount",
    "AlipayGateway",
    "ExpectedOrder",
    "GatewayRefused",
    "GatewayUnavailable",
    "Notification",
    "NotificationRejected",
    "PaymentError",
    "PaymentGateway",
    "PaymentOrder",
    "RefundConflict",
    "RefundResult",
    "RefundTooLarge",
    "Trade",
    "TradeNotFound",
    "TradeStatus",
    "claimed_out_trade_no",
    "verify_notification",
]
