"""A local SF Express (丰桥) speaking its wire protocol: digests checked, waybills, route pushes."""

from logistics.simulator.app import create_sf_simulator, start_sf_simulator
from logistics.simulator.push import PushResult, push_form
from logistics.simulator.simulator import JOURNEY, SF_SIMULATOR, SfSimulator

__all__ = [
    "JOURNEY",
    "SF_SIMULATOR",
    "PushResult",
    "SfSimulator",
    "create_sf_simulator",
    "push_form",
    "start_sf_simulator",
]
