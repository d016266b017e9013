"""A local WeChat platform: the official-account API, pushes to the callback, a phone chat page."""

from bot.simulator.app import create_simulator, start_simulator
from bot.simulator.chat_log import ChatEntry
from bot.simulator.faults import Fault
from bot.simulator.push import Mode, PushResult
from bot.simulator.simulator import SIMULATOR, Simulator
from bot.simulator.state import ACCOUNT_ID, DEMO_OPENID, PlatformError

__all__ = [
    "ACCOUNT_ID",
    "DEMO_OPENID",
    "SIMULATOR",
    "ChatEntry",
    "Fault",
    "Mode",
    "PlatformError",
    "PushResult",
    "Simulator",
    "create_simulator",
    "start_simulator",
]
