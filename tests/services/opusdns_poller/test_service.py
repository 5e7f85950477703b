"""The OpusDNS poller service through the shared poller suite (`tests/services/poller_suite.py`), plus what only
OpusDNS does: readiness names the refused credentials."""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest

from regpipe.kafka import ensure_topics
from regpipe.providers.opusdns.poller import lease_name
from regpipe.simulators.opusdns import ALL_PERMISSIONS, OpusDnsSimulator, serve_simulator
from regpipe.stack.ports import free_port
from tests.raw_event_ids import page_event_ids
from tests.service_process import ServiceUnderTest
from tests.services.poller_suite import Ack, PollerServiceSuite, service_env, until

pytestmark = pytest.mark.integration

_KEY = "opk_service_test"


class OpusDnsProvider:
    """The OpusDNS simulator with one account, seen through the suite's `PolledProvider`."""

    service = "opusdns_poller"
    source = "opusdns"

    def __init__(self, seed: int) -> None:
        self.account = f"opus-svc-{uuid.uuid4().hex[:8]}"
        self.simulator = OpusDnsSimulator(api_keys={_KEY: ALL_PERMISSIONS}, seed=seed)
        self.lease_labels = {"service": "opusdns-poller", "account": lease_name(self.account)}

    def serve(self) -> AbstractAsyncContextManager[str]:
        return serve_simulator(self.simulator)

    def env(self, url: str) -> dict[str, str]:
        return {
            "OPUSDNS_BASE_URL": url,
            "OPUSDNS_ACCOUNT": self.account,
            "OPUSDNS_API_KEY": _KEY,
            "OPUSDNS_PAGE_SIZE": "10",
            "OPUSDNS_POLL_INTERVAL_S": "0.2",
            "OPUSDNS_TIMEOUT_S": "5",
            "OPUSDNS_BACKOFF_INITIAL_S": "0.05",
            "OPUSDNS_BACKOFF_MAX_S": "0.5",
            "OPUSDNS_ERROR_PAUSE_S": "0.5",
        }

    def wrong_credentials(self) -> tuple[dict[str, str], str]:
        secret = "opk_wrong_0123456789"
        return {"OPUSDNS_API_KEY": secret, "OPUSDNS_ERROR_PAUSE_S": "300"}, secret

    def generate(self, n: int) -> list[str]:
        return [str(event["event_id"]) for event in self.simulator.generate(n)]

    def pending(self) -> list[str]:
        return [str(event["event_id"]) for event in self.simulator.pending()]

    def acked(self) -> list[Ack]:
        return [Ack(ack.event_id, ack.acked_at) for ack in self.simulator.acked()]

    def event_ids(self, value: bytes) -> tuple[str, ...]:
        return page_event_ids(value)


class TestOpusDnsPollerService(PollerServiceSuite):
    @pytest.fixture
    def provider(self) -> OpusDnsProvider:
        return OpusDnsProvider(seed=17)


async def test_readiness_names_the_refused_credentials(kafka_bootstrap: str, pg_dsn: str, tmp_path: Path) -> None:
    await ensure_topics(kafka_bootstrap)
    provider = OpusDnsProvider(seed=18)
    provider.generate(2)
    port = free_port()
    async with provider.serve() as url, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as health:
        wrong, _ = provider.wrong_credentials()
        env = service_env(provider, url, kafka_bootstrap, pg_dsn, **wrong, HEALTH_PORT=str(port))
        service = ServiceUnderTest(provider.service, env, tmp_path)
        service.start()
        try:

            async def unready_for_401() -> bool:
                try:
                    answer = await health.get("/readyz")
                except httpx.TransportError:
                    return False  # not listening yet
                return answer.status_code == 503 and "401" in answer.text

            await until(unready_for_401, service)
        finally:
            assert service.stop() == 0
    assert [r.status for r in provider.simulator.requests] == [401]
