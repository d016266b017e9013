"""Logistics: the courier port, the SF Express adapter, route pushes, hand-over QR codes.

``logistics.simulator`` is a local SF speaking its wire protocol, for tests and demo mode.
"""

from logistics.pickup_codes import (
    HandOver,
    IssuedCode,
    PickupClaim,
    PickupCodeRejected,
    PickupCodes,
    derive_key,
    qr_svg,
)
from logistics.port import (
    Booking,
    CannotCancel,
    Cargo,
    Contact,
    Courier,
    CourierError,
    CourierRefused,
    CourierUnavailable,
    InvalidContact,
    OrderNotFound,
    PickupOrder,
    PickupWindow,
    RouteEvent,
    Stage,
)
from logistics.route_push import ACCEPTED, RETRY, PushRejected, SfAccount, verify_route_push
from logistics.sf import SfCourier

__all__ = [
    "ACCEPTED",
    "RETRY",
    "Booking",
    "CannotCancel",
    "Cargo",
    "Contact",
    "Courier",
    "CourierError",
    "CourierRefused",
    "CourierUnavailable",
    "HandOver",
    "InvalidContact",
    "IssuedCode",
    "OrderNotFound",
    "PickupClaim",
    "PickupCodeRejected",
    "PickupCodes",
    "PickupOrder",
    "PickupWindow",
    "PushRejected",
    "RouteEvent",
    "SfAccount",
    "SfCourier",
    "Stage",
    "derive_key",
    "qr_svg",
    "verify_route_push",
]
