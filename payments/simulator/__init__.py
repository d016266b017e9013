"""A local Alipay: signed gateway calls, a cashier page, signed notifications with retries."""

from payments.simulator.app import SELLER_ID, create_alipay_simulator, start_alipay_simulator
from payments.simulator.gateway import SIMULATOR, AlipaySimulator
from payments.simulator.ledger import Ledger, Refusal
from payments.simulator.notifier import ALIPAY_SCHEDULE, Delivery, Notifier, compressed

__all__ = [
    "ALIPAY_SCHEDULE",
    "SELLER_ID",
    "SIMULATOR",
    "AlipaySimulator",
    "Delivery",
    "Ledger",
    "Notifier",
    "Refusal",
    "compressed",
    "create_alipay_simulator",
    "start_alipay_simulator",
]
