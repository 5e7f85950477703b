"""The OpenSRS poller service through the shared poller suite (`tests/services/poller_suite.py`): SIGKILLed between
publishing and ACKing or mid-stream it loses nothing and ACKs nothing it did not publish; of two replicas only the
leader polls and the standby takes over; a wrong key publishes nothing."""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager

import pytest

from regpipe.providers.opensrs.poller import lease_name
from regpipe.simulators.opensrs.api import OpenSRSSimulator, serve_simulator
from tests.raw_event_ids import reply_event_ids
from tests.services.poller_suite import Ack, PollerServiceSuite

pytestmark = pytest.mark.integration

KEY = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"


class OpenSRSProvider:
    """The OpenSRS simulator with one reseller account, seen through the suite's `PolledProvider`."""

    service = "opensrs_poller"
    source = "opensrs"

    def __init__(self, seed: int) -> None:
        self.account = f"reseller-{uuid.uuid4().hex[:8]}"
        self.simulator = OpenSRSSimulator({self.account: KEY}, seed=seed)
        self.lease_labels = {"service": "opensrs-poller", "account": lease_name(self.account)}

    def serve(self) -> AbstractAsyncContextManager[str]:
        return serve_simulator(self.simulator)

    def env(self, url: str) -> dict[str, str]:
        return {
            "OPENSRS_URL": url,
            "OPENSRS_USERNAME": self.account,
            "OPENSRS_API_KEY": KEY,
            "OPENSRS_POLL_LIMIT": "3",
            "OPENSRS_POLL_INTERVAL_S": "0.2",
            "OPENSRS_TIMEOUT_S": "5",
            "OPENSRS_BACKOFF_INITIAL_S": "0.05",
            "OPENSRS_BACKOFF_MAX_S": "0.5",
            "OPENSRS_ERROR_PAUSE_S": "0.5",
        }

    def wrong_credentials(self) -> tuple[dict[str, str], str]:
        secret = "wrong-key-0123456789"
        return {"OPENSRS_API_KEY": secret, "OPENSRS_ERROR_PAUSE_S": "300"}, secret

    def generate(self, n: int) -> list[str]:
        return [str(event["event_id"]) for event in self.simulator.generate(self.account, n)]

    def pending(self) -> list[str]:
        return [str(event["event_id"]) for event in self.simulator.queued(self.account)]

    def acked(self) -> list[Ack]:
        return [Ack(ack.event_id, ack.acked_at) for ack in self.simulator.acked(self.account)]

    def event_ids(self, value: bytes) -> tuple[str, ...]:
        return reply_event_ids(value)


class TestOpenSRSPollerService(PollerServiceSuite):
    @pytest.fixture
    def provider(self) -> OpenSRSProvider:
        return OpenSRSProvider(seed=33)
