"""The OpenSRS poller service as real processes against the simulator, the real broker and PostgreSQL: SIGKILLed
between publishing and ACKing, or mid-stream, it loses nothing and ACKs nothing it did not publish; of two
replicas only the leader polls, and the standby takes over within seconds when the leader is killed."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from regpipe.kafka import ensure_topics
from regpipe.providers.opensrs.poller import lease_name
from regpipe.simulators.opensrs.api import OpenSRSSimulator, serve_simulator
from regpipe.stack.ports import free_port
from tests.providers.opensrs.raw_records import RawPollRecords
from tests.service_process import ServiceUnderTest

pytestmark = pytest.mark.integration

KEY = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
SERVICE = "opensrs_poller"


def _env(url: str, username: str, kafka_bootstrap: str, pg_dsn: str, **extra: str) -> dict[str, str]:
    return {
        "OPENSRS_URL": url,
        "OPENSRS_USERNAME": username,
        "OPENSRS_API_KEY": KEY,
        "OPENSRS_POLL_LIMIT": "3",
        "OPENSRS_POLL_INTERVAL_S": "0.2",
        "OPENSRS_TIMEOUT_S": "5",
        "OPENSRS_BACKOFF_INITIAL_S": "0.05",
        "OPENSRS_BACKOFF_MAX_S": "0.5",
        "OPENSRS_ERROR_PAUSE_S": "0.5",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "POSTGRES_DSN": pg_dsn,
        "LEASE_RETRY_INTERVAL_S": "0.2",
        "HEALTH_HOST": "127.0.0.1",
        **extra,
    }


def _user() -> str:
    return f"reseller-{uuid.uuid4().hex[:8]}"


async def _until(
    condition: Callable[[], bool | Awaitable[bool]], service: ServiceUnderTest | None = None, timeout_s: float = 30
) -> None:
    """Wait until `condition()` holds; fail at once if `service` died meanwhile."""
    async with asyncio.timeout(timeout_s):
        while True:
            outcome = condition()
            if outcome if isinstance(outcome, bool) else await outcome:
                return
            if service is not None:
                assert service.returncode is None, service.log[-3000:]
            await asyncio.sleep(0.05)


def _acked_at_least(simulator: OpenSRSSimulator, count: int) -> bool:
    return len(simulator.acked()) >= count


def _assert_acked_only_after_publishing(raw: RawPollRecords, simulator: OpenSRSSimulator, username: str) -> None:
    for ack in simulator.acked(username):
        record = raw.first_record_of(ack.event_id)  # raises if it never reached the raw topic
        assert ack.acked_at >= record.timestamp_s, f"{ack.event_id} ACKed before Kafka had it"


async def test_sigkill_after_publishing_before_acking_republishes_on_restart(
    kafka_bootstrap: str, pg_dsn: str, tmp_path: Path
) -> None:
    await ensure_topics(kafka_bootstrap)
    username = _user()
    simulator = OpenSRSSimulator({username: KEY}, seed=31)
    (first,) = simulator.generate(username, 1)
    simulator.hold_acks()
    async with RawPollRecords(kafka_bootstrap, username) as raw, serve_simulator(simulator) as url:
        service = ServiceUnderTest(SERVICE, _env(url, username, kafka_bootstrap, pg_dsn), tmp_path)
        service.start()
        try:
            await simulator.wait_for_held_ack(timeout_s=30)  # published, now trying to ACK
            await raw.wait_for_events({first["event_id"]})
            service.kill()
            await asyncio.sleep(0.3)  # let the server see the connection close before the ACK is let through
            simulator.release_acks()
            await asyncio.sleep(0.3)
            assert simulator.acked() == []  # the ACK died with the process
            assert simulator.queued(username) == [first]

            later = simulator.generate(username, 7)
            service.start()
            await _until(lambda: not simulator.queued(username), service)
            await raw.wait_for_events({event["event_id"] for event in later})
        finally:
            exit_code = service.stop()
    assert exit_code == 0, service.log[-3000:]
    await raw.drain()
    assert len([record for record in raw.records if first["event_id"] in record.event_ids]) == 2  # published again
    assert {ack.event_id for ack in simulator.acked(username)} == {e["event_id"] for e in [first, *later]}
    _assert_acked_only_after_publishing(raw, simulator, username)


async def test_sigkill_mid_stream_twice_loses_nothing(kafka_bootstrap: str, pg_dsn: str, tmp_path: Path) -> None:
    await ensure_topics(kafka_bootstrap)
    username = _user()
    simulator = OpenSRSSimulator({username: KEY}, seed=32)
    events = simulator.generate(username, 90)
    async with RawPollRecords(kafka_bootstrap, username) as raw, serve_simulator(simulator) as url:
        service = ServiceUnderTest(SERVICE, _env(url, username, kafka_bootstrap, pg_dsn), tmp_path)
        try:
            for kill_after in (20, 50):
                service.start()
                await _until(partial(_acked_at_least, simulator, kill_after), service)
                service.kill()
                assert simulator.queued(username), "the stream ended before the kill"
            service.start()
            await _until(lambda: not simulator.queued(username), service)
        finally:
            exit_code = service.stop()
        await raw.wait_for_events({event["event_id"] for event in events})
    assert exit_code == 0, service.log[-3000:]
    assert [ack.event_id for ack in simulator.acked(username)] == [event["event_id"] for event in events]
    _assert_acked_only_after_publishing(raw, simulator, username)


async def _metric(http: httpx.AsyncClient, port: int, name: str, labels: dict[str, str]) -> float:
    """A sample of a replica's /metrics (0 while it does not answer yet)."""
    try:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    except httpx.HTTPError:
        return 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


async def test_two_replicas_only_the_leader_polls_and_the_standby_takes_over(
    kafka_bootstrap: str, pg_dsn: str, tmp_path: Path
) -> None:
    await ensure_topics(kafka_bootstrap)
    username = _user()
    simulator = OpenSRSSimulator({username: KEY}, seed=33)
    leader_labels = {"service": "opensrs-poller", "account": lease_name(username)}
    acked_labels = {"source": "opensrs"}
    ports = [free_port(), free_port()]
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    async with (
        RawPollRecords(kafka_bootstrap, username) as raw,
        serve_simulator(simulator) as url,
        httpx.AsyncClient(timeout=2) as http,
    ):
        replicas = [
            ServiceUnderTest(SERVICE, _env(url, username, kafka_bootstrap, pg_dsn, HEALTH_PORT=str(port)), tmp_path / n)
            for port, n in zip(ports, ("a", "b"), strict=True)
        ]
        for replica in replicas:
            replica.start()
        try:

            async def leaders() -> list[int]:
                flags = [await _metric(http, port, "regpipe_leader", leader_labels) for port in ports]
                return [index for index, flag in enumerate(flags) if flag == 1]

            async def one_leader_polling() -> bool:
                return len(await leaders()) == 1 and simulator.polls_by_user[username] > 0

            async def acked(port: int) -> float:
                return await _metric(http, port, "regpipe_poll_acked_total", acked_labels)

            await _until(one_leader_polling)
            (leader,) = await leaders()
            standby = 1 - leader
            for port in ports:  # the standby is ready too: it knows it is not the leader
                assert (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
            first = simulator.generate(username, 12)
            await _until(lambda: not simulator.queued(username))
            await asyncio.sleep(0.5)
            assert await leaders() == [leader]
            assert await acked(ports[leader]) == 12
            assert await acked(ports[standby]) == 0
            polling_connections = set(simulator.polls_by_connection)

            replicas[leader].kill()
            killed_at = time.monotonic()

            async def standby_leads() -> bool:
                return await leaders() == [standby]

            await _until(standby_leads, timeout_s=15)
            takeover_s = time.monotonic() - killed_at
            later = simulator.generate(username, 5)
            await _until(lambda: not simulator.queued(username))
            assert await acked(ports[standby]) == 5
            assert set(simulator.polls_by_connection) - polling_connections  # a new client polls now
        finally:
            codes = [replica.stop() for replica in replicas]
        await raw.wait_for_events({event["event_id"] for event in first + later})
    assert codes[standby] == 0, replicas[standby].log[-3000:]
    assert takeover_s < 5, f"standby took {takeover_s:.1f} s to take over"
    _assert_acked_only_after_publishing(raw, simulator, username)


async def test_bad_signature_publishes_nothing_and_keeps_the_service_running(
    kafka_bootstrap: str, pg_dsn: str, tmp_path: Path
) -> None:
    await ensure_topics(kafka_bootstrap)
    username = _user()
    simulator = OpenSRSSimulator({username: KEY}, seed=34)
    simulator.generate(username, 3)
    async with RawPollRecords(kafka_bootstrap, username) as raw, serve_simulator(simulator) as url:
        env = _env(url, username, kafka_bootstrap, pg_dsn, OPENSRS_API_KEY="wrong-key")
        service = ServiceUnderTest(SERVICE, env, tmp_path)
        service.start()
        try:
            await _until(lambda: service.log.count('"kind": "auth"') + service.log.count('"kind":"auth"') >= 2, service)
            assert service.returncode is None
        finally:
            exit_code = service.stop()
        await raw.drain()
    assert exit_code == 0
    assert raw.records == []
    assert simulator.acked() == []
    assert "wrong-key" not in service.log  # the key is never logged
