"""The OpusDNS poller loop against the real broker, the real PostgreSQL lease and the simulator on a loopback port:
what lands on `registrar.raw.v1`, what the simulator saw acknowledged, and when."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from urllib.parse import parse_qs

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY
from pydantic import SecretStr

from regpipe.contract.taxonomy import Source, Transport
from regpipe.ingest.publisher import PublishedRecord, RawPublisher
from regpipe.kafka import PublishError, create_producer, ensure_topics
from regpipe.leadership.lease import ExpiringLease
from regpipe.providers.opusdns.client import OpusDnsClient, RetryPolicy, make_auth
from regpipe.providers.opusdns.poller import PAGE_EVENT_TYPE, OpusDnsPoller, PollerConfig, Publisher, lease_name
from regpipe.simulators.opusdns import ALL_PERMISSIONS, Endpoint, Fault, OpusDnsSimulator, serve_simulator
from tests.kafka_io import RawTail
from tests.leadership.lease_admin import take_over
from tests.raw_event_ids import page_event_ids

_KEY = "opk_poller_test"
_FAST_RETRY = RetryPolicy(attempts=3, timeout_s=10, wait_initial_s=0.05, wait_max_s=0.2, wait_jitter_s=0.05)


def _account() -> str:
    return f"opus-{uuid.uuid4().hex[:8]}"


def _config(account: str, **overrides: float) -> PollerConfig:
    values: dict[str, float] = {
        "page_size": 10,
        "poll_interval_s": 0.2,
        "error_backoff_initial_s": 0.05,
        "error_backoff_max_s": 0.2,
        "error_pause_s": 30.0,
        **overrides,
    }
    return PollerConfig(account=account, **values)  # type: ignore[arg-type]


async def _until(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 -- simulator state and topics have no event to await
            await asyncio.sleep(0.05)


def _pages_read(sim: OpusDnsSimulator) -> set[str]:
    return {parse_qs(r.query).get("page", ["1"])[0] for r in sim.requests if r.endpoint is Endpoint.LIST}


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    await ensure_topics(kafka_bootstrap)
    kafka = create_producer(kafka_bootstrap, client_id="opusdns-poller-test")
    await kafka.start()
    yield kafka
    await kafka.stop()


@asynccontextmanager
async def _polling(
    sim: OpusDnsSimulator,
    publisher: Publisher,
    pg_dsn: str,
    config: PollerConfig,
    *,
    key: str = _KEY,
) -> AsyncIterator[OpusDnsPoller]:
    stop = asyncio.Event()
    lease = ExpiringLease(
        pg_dsn, lease_name(config.account), service="opusdns-test", ttl_s=1.5, retry_interval_s=0.2, stop=stop
    )
    async with serve_simulator(sim) as url:
        auth = make_auth(url, api_key=SecretStr(key))
        async with OpusDnsClient(url, auth, timeout_s=5, retry=_FAST_RETRY) as client:
            poller = OpusDnsPoller(client, publisher, lease, config)
            task = asyncio.create_task(poller.run(stop))
            try:
                yield poller
            finally:
                stop.set()
                await asyncio.wait_for(task, timeout=30)


@pytest.mark.integration
async def test_every_event_lands_on_raw_and_is_acknowledged_across_pages_while_new_ones_arrive(
    kafka_bootstrap: str, pg_dsn: str, producer: AIOKafkaProducer
) -> None:
    account = _account()
    sim = OpusDnsSimulator(api_keys={_KEY: ALL_PERMISSIONS}, seed=1)
    offered = {event["event_id"] for event in sim.generate(95, legacy_share=0.1)}
    async with RawTail(kafka_bootstrap, account, page_event_ids) as raw:
        async with _polling(sim, RawPublisher(producer), pg_dsn, _config(account)):
            for _ in range(10):  # more keep arriving while the poller acknowledges page after page
                offered |= {event["event_id"] for event in sim.generate(3)}
                await asyncio.sleep(0.05)
            await _until(lambda: {ack.event_id for ack in sim.acked()} >= offered)
        await raw.wait_for_events(offered)
        await raw.drain()
    acked = {ack.event_id: ack.acked_at for ack in sim.acked()}
    assert set(acked) == offered == raw.event_ids  # every event offered, none skipped, nothing else
    assert sim.pending() == []
    assert _pages_read(sim) == {"1"}  # never walked page 2, 3, ...
    for event_id, acked_at in acked.items():
        assert raw.first_record_of(event_id).timestamp_s <= acked_at  # published before acknowledged
    for record in raw.records:
        event = orjson.loads(record.value)
        # One record per event (so that one unmappable event is quarantined alone): the event object as listed.
        (event_id,) = record.event_ids
        assert event["event_id"] == event_id
        assert (record.headers.source, record.headers.transport) == (Source.OPUSDNS, Transport.POLL)
        assert record.headers.content_type == "application/json"
        assert record.headers.provider_event_type == PAGE_EVENT_TYPE
        assert record.headers.provider_event_id == event_id
        assert record.key == f"opusdns:{event_id}"


@pytest.mark.integration
async def test_429_with_retry_after_is_honoured(kafka_bootstrap: str, pg_dsn: str, producer: AIOKafkaProducer) -> None:
    account = _account()
    sim = OpusDnsSimulator(api_keys={_KEY: ALL_PERMISSIONS}, seed=2)
    sim.rates.retry_after_s = 1
    offered = {event["event_id"] for event in sim.generate(5)}
    sim.fail_next(Fault.RATE_LIMITED, 2, endpoint=Endpoint.LIST)
    async with _polling(sim, RawPublisher(producer), pg_dsn, _config(account)):
        await _until(lambda: {ack.event_id for ack in sim.acked()} >= offered)
    lists = [r for r in sim.requests if r.endpoint is Endpoint.LIST]
    assert [r.status for r in lists[:3]] == [429, 429, 200]
    assert lists[1].at - lists[0].at >= 0.95
    assert lists[2].at - lists[1].at >= 0.95


class _RefusingPublisher:
    """A publisher whose broker never acknowledges (the poller must then acknowledge nothing)."""

    def __init__(self) -> None:
        self.attempts = 0

    async def publish(self, body: bytes, **_: object) -> PublishedRecord:
        self.attempts += 1
        raise PublishError("broker did not acknowledge")


@pytest.mark.integration
async def test_nothing_is_acknowledged_while_kafka_does_not_acknowledge(pg_dsn: str) -> None:
    sim = OpusDnsSimulator(api_keys={_KEY: ALL_PERMISSIONS}, seed=3)
    sim.generate(4)
    refusing = _RefusingPublisher()
    async with _polling(sim, refusing, pg_dsn, _config(_account())) as poller:
        await _until(lambda: refusing.attempts >= 4 * 4)  # four polls, each publishing its four events
        assert poller.not_ready_reason() is not None
    assert sim.acked() == []
    assert len(sim.pending()) == 4


@pytest.mark.integration
async def test_wrong_key_is_not_retried_and_publishes_nothing(
    kafka_bootstrap: str, pg_dsn: str, producer: AIOKafkaProducer
) -> None:
    account = _account()
    sim = OpusDnsSimulator(api_keys={_KEY: ALL_PERMISSIONS}, seed=4)
    sim.generate(3)
    async with RawTail(kafka_bootstrap, account, page_event_ids) as raw:
        async with _polling(sim, RawPublisher(producer), pg_dsn, _config(account), key="opk_wrong") as poller:
            await _until(lambda: poller.not_ready_reason() is not None)
            await asyncio.sleep(1.0)  # a retrying poller would have tried again by now
        await raw.drain()
    assert "401" in (poller.not_ready_reason() or "")
    assert [r.status for r in sim.requests] == [401]
    assert raw.records == []
    assert sim.acked() == []


def _lease_lost() -> float:
    return REGISTRY.get_sample_value("regpipe_poll_errors_total", {"source": "opusdns", "kind": "lease_lost"}) or 0.0


@pytest.mark.integration
async def test_losing_the_lease_stops_polling_at_once(
    kafka_bootstrap: str, pg_dsn: str, producer: AIOKafkaProducer
) -> None:
    account = _account()
    sim = OpusDnsSimulator(api_keys={_KEY: ALL_PERMISSIONS}, seed=5)
    first = {event["event_id"] for event in sim.generate(3)}
    async with _polling(sim, RawPublisher(producer), pg_dsn, _config(account)):
        await _until(lambda: {ack.event_id for ack in sim.acked()} >= first)
        # Another holder gets the lease for 15 s (as a database restored under the poller would): at its next
        # renewal (0.5 s here) the poller learns it, and from then on it must neither poll nor acknowledge. The
        # hold outlasts the observation below even when a loaded machine is slow to notice the loss.
        lost_before = _lease_lost()
        await take_over(pg_dsn, lease_name(account), for_s=15.0)
        await _until(lambda: _lease_lost() > lost_before)
        lost_at = time.time()
        second = {event["event_id"] for event in sim.generate(3)}
        await asyncio.sleep(2.0)
        late = [r for r in sim.requests if r.endpoint is Endpoint.LIST and r.at > lost_at + 1.0]
        assert late == []  # not leader any more: no polling
        assert not {ack.event_id for ack in sim.acked()} & second
        await _until(lambda: {ack.event_id for ack in sim.acked()} >= second)  # leader again once it expired
