"""OpusDNS, simulated: realistic events (`events`), an account's state (`state`: events, credentials, faults,
held acknowledgements) and the REST events API over it (`api`)."""

from regpipe.simulators.opusdns.api import create_simulator_app, serve_simulator
from regpipe.simulators.opusdns.events import EventFactory
from regpipe.simulators.opusdns.state import (
    ALL_PERMISSIONS,
    AckRecord,
    Endpoint,
    Fault,
    FaultRates,
    OpusDnsSimulator,
    RequestRecord,
)

__all__ = [
    "ALL_PERMISSIONS",
    "AckRecord",
    "Endpoint",
    "EventFactory",
    "Fault",
    "FaultRates",
    "OpusDnsSimulator",
    "RequestRecord",
    "create_simulator_app",
    "serve_simulator",
]
