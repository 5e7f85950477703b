"""The OpenSRS poller loop against the real broker, the real PostgreSQL lease and the simulator on a loopback port:
what lands on `registrar.raw.v1`, what the simulator saw ACKed, and in which order."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY

from regpipe.ingest.publisher import RawPublisher
from regpipe.kafka import create_producer, ensure_topics
from regpipe.leadership.lease import ExpiringLease
from regpipe.providers.opensrs.client import OpenSRSClient
from regpipe.providers.opensrs.poller import POLL_EVENT_TYPE, OpenSRSPoller, PollerConfig, PollerState, lease_name
from regpipe.simulators.opensrs.api import Fault, FaultRates, OpenSRSSimulator, serve_simulator
from tests.kafka_io import RawTail
from tests.leadership.lease_admin import take_over
from tests.raw_event_ids import reply_event_ids

pytestmark = pytest.mark.integration

KEY = "00112233445566778899aabbccddeeff"
FAST = PollerConfig(limit=5, interval_s=0.2, backoff_initial_s=0.05, backoff_max_s=0.2, error_pause_s=0.3)


def _user() -> str:
    return f"reseller-{uuid.uuid4().hex[:8]}"


def _errors(kind: str) -> float:
    return REGISTRY.get_sample_value("regpipe_poll_errors_total", {"source": "opensrs", "kind": kind}) or 0.0


async def _until(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    """Wait until `condition()` holds (the simulator and the poller expose state, not events)."""
    async with asyncio.timeout(timeout_s):
        while True:
            if condition():
                return
            await asyncio.sleep(0.05)


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    await ensure_topics(kafka_bootstrap)
    kafka = create_producer(kafka_bootstrap, client_id="opensrs-poller-test")
    await kafka.start()
    yield kafka
    await kafka.stop()


@dataclass
class Running:
    poller: OpenSRSPoller
    lease: ExpiringLease
    stop: asyncio.Event
    task: asyncio.Task[None]


@asynccontextmanager
async def running_poller(
    url: str,
    username: str,
    publisher: RawPublisher,
    pg_dsn: str,
    *,
    key: str = KEY,
    config: PollerConfig = FAST,
) -> AsyncIterator[Running]:
    stop = asyncio.Event()
    lease = ExpiringLease(
        pg_dsn, lease_name(username), service="opensrs-test", ttl_s=1.5, retry_interval_s=0.2, stop=stop
    )
    async with OpenSRSClient(url, username=username, api_key=key, timeout_s=5) as client:
        poller = OpenSRSPoller(client, publisher, lease, config)
        task = asyncio.create_task(poller.run(stop))
        try:
            yield Running(poller, lease, stop, task)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)


def _assert_acked_only_after_publishing(raw: RawTail, simulator: OpenSRSSimulator, username: str) -> None:
    for ack in simulator.acked(username):
        record = raw.first_record_of(ack.event_id)  # raises if the event was never published
        assert record.offset >= 0
        assert ack.acked_at >= record.timestamp_s, f"{ack.event_id} ACKed before Kafka had it"


async def test_every_event_lands_on_the_raw_topic_once_published_then_acked(
    kafka_bootstrap: str, pg_dsn: str, producer: AIOKafkaProducer
) -> None:
    username = _user()
    simulator = OpenSRSSimulator({username: KEY}, seed=21, rates=FaultRates(duplicate=0.2))
    events = simulator.generate(username, 23)
    queued = len(simulator.queued(username))
    async with (
        RawTail(kafka_bootstrap, username, reply_event_ids) as raw,
        serve_simulator(simulator) as url,
        running_poller(url, username, RawPublisher(producer), pg_dsn) as run,
    ):
        await raw.wait_for_events({event["event_id"] for event in events})
        await _until(lambda: not simulator.queued(username))
        assert run.poller.state is PollerState.POLLING
    await raw.drain()
    assert raw.event_ids == {event["event_id"] for event in events}
    assert len(simulator.acked(username)) == queued  # every copy, duplicates included, ACKed once
    _assert_acked_only_after_publishing(raw, simulator, username)
    for record in raw.records:
        assert record.headers.provider_event_type == POLL_EVENT_TYPE
        assert record.headers.content_type == "text/xml"
        assert record.headers.transport.value == "poll"
        (event_id,) = record.event_ids  # one record per event, so that an unmappable one is quarantined alone
        assert record.key == f"opensrs:{event_id}"
        assert record.headers.provider_event_id == event_id
    # Each is the reply's envelope around its one event, transaction id and all.
    assert all(record.value.startswith(b'<?xml version="1.0" encoding="UTF-8"') for record in raw.records)
    assert all(b"transaction_id" in record.value for record in raw.records)


async def test_transient_faults_are_retried_and_nothing_is_lost(
    kafka_bootstrap: str, pg_dsn: str, producer: AIOKafkaProducer
) -> None:
    username = _user()
    rates = FaultRates(http_5xx=0.05, error_reply=0.05, malformed=0.05, slow=0.02, slow_s=0.3)
    simulator = OpenSRSSimulator({username: KEY}, seed=5, rates=rates)
    events = simulator.generate(username, 30)
    scripted = [Fault.HTTP_500, Fault.CODE_486, Fault.MALFORMED, Fault.CODE_400, Fault.HTTP_503, Fault.SLOW]
    for fault in scripted:  # every kind at least once on each call, on top of the random ones
        simulator.fail_next(fault, action="POLL")
        simulator.fail_next(fault, action="ACK")
    transport_errors = _errors("transport")
    async with (
        RawTail(kafka_bootstrap, username, reply_event_ids) as raw,
        serve_simulator(simulator) as url,
        running_poller(url, username, RawPublisher(producer), pg_dsn),
    ):
        await _until(lambda: not simulator.queued(username), timeout_s=40)
        await raw.wait_for_events({event["event_id"] for event in events})
    assert {ack.event_id for ack in simulator.acked(username)} == {event["event_id"] for event in events}
    _assert_acked_only_after_publishing(raw, simulator, username)
    assert all(simulator.faults_served[fault] >= 2 for fault in scripted)
    assert _errors("transport") > transport_errors


async def test_bad_signature_is_not_retried_fast_and_nothing_is_published(
    kafka_bootstrap: str, pg_dsn: str, producer: AIOKafkaProducer
) -> None:
    username = _user()
    simulator = OpenSRSSimulator({username: KEY}, seed=1)
    simulator.generate(username, 3)
    auth_errors = _errors("auth")
    async with (
        RawTail(kafka_bootstrap, username, reply_event_ids) as raw,
        serve_simulator(simulator) as url,
        running_poller(url, username, RawPublisher(producer), pg_dsn, key="not-the-key") as run,
    ):
        await _until(lambda: _errors("auth") >= auth_errors + 2)  # it keeps trying, after the long pause
        assert run.poller.state is PollerState.POLLING
        assert not run.task.done()
    await raw.drain()
    assert raw.records == []
    assert simulator.acked() == []
    assert len(simulator.queued(username)) == 3


async def test_nothing_is_acked_when_kafka_does_not_acknowledge(pg_dsn: str, producer: AIOKafkaProducer) -> None:
    username = _user()
    simulator = OpenSRSSimulator({username: KEY}, seed=2)
    simulator.generate(username, 2)
    publish_errors = _errors("publish")
    # A topic that does not exist (and is never auto-created): the broker never acknowledges.
    unacknowledged = RawPublisher(producer, topic=f"missing-{uuid.uuid4().hex[:8]}", timeout_s=0.5)
    async with serve_simulator(simulator) as url, running_poller(url, username, unacknowledged, pg_dsn):
        await _until(lambda: _errors("publish") >= publish_errors + 2)
    assert simulator.polls_by_user[username] >= 2
    assert simulator.acked() == []
    assert len(simulator.queued(username)) == 2


async def test_only_the_lease_holder_polls_and_a_standby_takes_over(
    kafka_bootstrap: str, pg_dsn: str, producer: AIOKafkaProducer
) -> None:
    username = _user()
    simulator = OpenSRSSimulator({username: KEY}, seed=3)
    publisher = RawPublisher(producer)
    async with (
        RawTail(kafka_bootstrap, username, reply_event_ids) as raw,
        serve_simulator(simulator) as url,
        running_poller(url, username, publisher, pg_dsn) as first,
    ):
        await _until(lambda: first.poller.state is PollerState.POLLING)
        async with running_poller(url, username, publisher, pg_dsn) as second:
            await _until(lambda: second.poller.state is PollerState.WAITING_FOR_LEASE)
            events = simulator.generate(username, 10)
            await _until(lambda: not simulator.queued(username))
            await asyncio.sleep(0.5)  # a few more empty polls
            assert second.poller.state is PollerState.WAITING_FOR_LEASE
            assert len(simulator.polls_by_connection) == 1  # one client connection polled: the leader's
            (leader_connection,) = simulator.polls_by_connection
            first.stop.set()
            await asyncio.wait_for(first.task, timeout=30)
            await _until(lambda: second.poller.state is PollerState.POLLING)
            later = simulator.generate(username, 4)
            await _until(lambda: not simulator.queued(username))
            assert set(simulator.polls_by_connection) - {leader_connection}  # now the standby polls
        await raw.wait_for_events({event["event_id"] for event in events + later})
    _assert_acked_only_after_publishing(raw, simulator, username)


async def test_a_lost_lease_stops_polling_at_once_and_is_taken_again(
    kafka_bootstrap: str, pg_dsn: str, producer: AIOKafkaProducer
) -> None:
    username = _user()
    simulator = OpenSRSSimulator({username: KEY}, seed=4)
    lost = _errors("lease_lost")
    async with (
        serve_simulator(simulator) as url,
        running_poller(url, username, RawPublisher(producer), pg_dsn, config=FAST) as run,
    ):
        await _until(lambda: run.poller.state is PollerState.POLLING)
        # Another holder gets the lease for a second (as after an expiry the poller did not see): it must stop.
        await take_over(pg_dsn, lease_name(username), for_s=1.0)
        await _until(lambda: _errors("lease_lost") > lost)
        await _until(lambda: run.poller.state is PollerState.POLLING)  # re-acquired: nobody else wanted it
        simulator.generate(username, 2)
        await _until(lambda: not simulator.queued(username))


async def test_stop_abandons_a_hung_call_after_the_grace_period(pg_dsn: str, producer: AIOKafkaProducer) -> None:
    username = _user()
    simulator = OpenSRSSimulator({username: KEY}, seed=6, rates=FaultRates(slow_s=30))
    simulator.fail_next(Fault.SLOW, count=5)
    config = PollerConfig(limit=1, interval_s=0.2, shutdown_grace_s=0.3)
    async with serve_simulator(simulator) as url:
        async with running_poller(url, username, RawPublisher(producer), pg_dsn, config=config) as run:
            await _until(lambda: simulator.faults_served[Fault.SLOW] >= 1)
            run.stop.set()
            # Not the 30 s the call would take (a 0.3 s grace; the rest is slack for a loaded machine).
            await asyncio.wait_for(asyncio.shield(run.task), timeout=15)
        assert run.poller.state is PollerState.STOPPED
