"""The opusdns-poller service as a real process (`python -m regpipe.services.opusdns_poller`) against the real broker,
PostgreSQL and the simulator on a loopback port: SIGKILL between publishing and acknowledging loses nothing, two
replicas poll as one and the standby takes over when the leader dies, and a wrong API key publishes nothing."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from regpipe.kafka import ensure_topics
from regpipe.simulators.opusdns import ALL_PERMISSIONS, Endpoint, OpusDnsSimulator, serve_simulator
from tests.providers.opusdns.raw_pages import RawPages
from tests.service_process import ServiceUnderTest

pytestmark = pytest.mark.integration

_KEY = "opk_service_test"
_SERVICE = "opusdns_poller"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _until(condition: Callable[[], bool], timeout_s: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _acked(sim: OpusDnsSimulator) -> set[str]:
    return {ack.event_id for ack in sim.acked()}


@pytest.fixture
async def sim() -> AsyncIterator[tuple[OpusDnsSimulator, str]]:
    simulator = OpusDnsSimulator(api_keys={_KEY: ALL_PERMISSIONS}, seed=17)
    async with serve_simulator(simulator) as url:
        yield simulator, url


@pytest.fixture
async def env(kafka_bootstrap: str, pg_dsn: str, sim: tuple[OpusDnsSimulator, str]) -> dict[str, str]:
    await ensure_topics(kafka_bootstrap)
    return {
        "OPUSDNS_BASE_URL": sim[1],
        "OPUSDNS_ACCOUNT": f"opus-svc-{uuid.uuid4().hex[:8]}",
        "OPUSDNS_API_KEY": _KEY,
        "OPUSDNS_PAGE_SIZE": "10",
        "OPUSDNS_POLL_INTERVAL_S": "0.2",
        "OPUSDNS_TIMEOUT_S": "5",
        "OPUSDNS_BACKOFF_INITIAL_S": "0.1",
        "OPUSDNS_BACKOFF_MAX_S": "0.5",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "POSTGRES_DSN": pg_dsn,
        "LEASE_RETRY_INTERVAL_S": "0.2",
        "HEALTH_HOST": "127.0.0.1",
    }


async def test_sigkill_between_publish_and_acknowledge_loses_nothing(
    kafka_bootstrap: str, sim: tuple[OpusDnsSimulator, str], env: dict[str, str], tmp_path: Path
) -> None:
    simulator, _ = sim
    offered = {event["event_id"] for event in simulator.generate(35, legacy_share=0.1)}
    simulator.hold_acks()
    async with RawPages(kafka_bootstrap, env["OPUSDNS_ACCOUNT"]) as raw:
        service = ServiceUnderTest(_SERVICE, env, tmp_path)
        service.start()
        try:
            await simulator.wait_for_held_ack(timeout_s=60)
            first_page = {event["event_id"] for event in simulator.pending()[:10]}
            await raw.wait_for_events(first_page)  # on Kafka while its acknowledgements are still in flight
            service.kill()
            assert service.returncode is not None
            await asyncio.sleep(0.3)  # let the simulator's loop see the connections close
            simulator.release_acks()  # the held PATCHes find their client gone: never applied
            await asyncio.sleep(0.3)
            assert _acked(simulator) == set()

            service.start()  # the restarted poller reads the same page 1 again
            offered |= {event["event_id"] for event in simulator.generate(5)}
            await _until(lambda: _acked(simulator) >= offered, 60, "every event acknowledged")
            assert service.stop() == 0  # SIGTERM: a clean exit
        finally:
            service.kill()
        await raw.drain()
    assert raw.event_ids >= offered
    assert _acked(simulator) == offered
    for event_id in first_page:  # published once before the kill and again after the restart
        assert sum(event_id in record.event_ids for record in raw.records) >= 2
    for ack in simulator.acked():
        assert raw.first_published_s(ack.event_id) <= ack.acked_at


async def test_two_replicas_poll_as_one_and_the_standby_takes_over(
    sim: tuple[OpusDnsSimulator, str], env: dict[str, str], tmp_path: Path
) -> None:
    simulator, _ = sim
    first = {event["event_id"] for event in simulator.generate(20)}
    replicas = [ServiceUnderTest(_SERVICE, env, tmp_path / name) for name in ("a", "b")]
    for replica, name in zip(replicas, ("a", "b"), strict=True):
        (tmp_path / name).mkdir()
        replica.start()
    try:
        await _until(lambda: _acked(simulator) >= first, 60, "the first events acknowledged")
        await asyncio.sleep(1.0)  # both replicas are up by now: the standby must not poll meanwhile
        pollers = set(simulator.user_agents(Endpoint.LIST))
        assert len(pollers) == 1
        leaders = [replica for replica in replicas if "polling as leader" in replica.log]
        assert len(leaders) == 1
        (leader,) = leaders
        (standby,) = [replica for replica in replicas if replica is not leader]

        leader.kill()
        killed_at = time.time()
        second = {event["event_id"] for event in simulator.generate(10)}
        await _until(lambda: _acked(simulator) >= second, 30, "the standby to take over")
        takeover = [r.at for r in simulator.requests if r.endpoint is Endpoint.LIST and r.user_agent not in pollers]
        assert takeover
        assert min(takeover) - killed_at < 5.0
        assert "polling as leader" in standby.log
    finally:
        for replica in replicas:
            replica.stop()


async def test_wrong_api_key_is_401_not_retried_and_nothing_published(
    kafka_bootstrap: str, sim: tuple[OpusDnsSimulator, str], env: dict[str, str], tmp_path: Path
) -> None:
    simulator, _ = sim
    simulator.generate(5)
    port = _free_port()
    async with RawPages(kafka_bootstrap, env["OPUSDNS_ACCOUNT"]) as raw:
        service = ServiceUnderTest(
            _SERVICE, {**env, "OPUSDNS_API_KEY": "opk_wrong", "HEALTH_PORT": str(port)}, tmp_path
        )
        service.start()
        try:
            readiness: httpx.Response | None = None
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as health:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    try:
                        readiness = await health.get("/readyz")
                    except httpx.TransportError:
                        readiness = None  # not listening yet
                    if readiness is not None and "401" in readiness.text:
                        break
                    await asyncio.sleep(0.1)
            assert readiness is not None
            assert readiness.status_code == 503
            await asyncio.sleep(1.0)  # a retrying poller would have asked again by now
            assert service.returncode is None  # still running, waiting for someone to fix the key
            assert service.stop() == 0
        finally:
            service.kill()
        await raw.drain()
    assert [r.status for r in simulator.requests] == [401]
    assert raw.records == []
    assert simulator.acked() == []
