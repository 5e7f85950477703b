"""An OpusDNS page with one event the payload model refuses (issue 12), against the real broker, the real PostgreSQL
lease and the simulator: before, the whole page was a payload error retried for ever (nothing published, nothing
acknowledged, the account blocked); now every event is its own raw record, the refused one is quarantined alone by
the normalizer, and every event is acknowledged once it is on Kafka."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaProducer
from pydantic import SecretStr

from regpipe.contract.sealing import RawSealer
from regpipe.ingest.publisher import RawPublisher
from regpipe.kafka import create_producer, ensure_topics
from regpipe.kafka.topics import Topic
from regpipe.leadership.lease import ExpiringLease
from regpipe.normalize.processor import Mapped, Processor, Quarantined, Result
from regpipe.normalize.registry import default_mappers
from regpipe.providers.mapper import QuarantineReason
from regpipe.providers.opusdns.client import OpusDnsClient, RetryPolicy, make_auth
from regpipe.providers.opusdns.poller import OpusDnsPoller, PollerConfig, lease_name
from regpipe.simulators.opusdns import ALL_PERMISSIONS, OpusDnsSimulator, serve_simulator
from tests.conditions import eventually
from tests.kafka_io import RawRecord, RawTail
from tests.raw_event_ids import page_event_ids

pytestmark = pytest.mark.integration

_KEY = "opk_hostile_test"
_FAST_RETRY = RetryPolicy(attempts=3, timeout_s=10, wait_initial_s=0.05, wait_max_s=0.2, wait_jitter_s=0.05)


@dataclass(frozen=True, slots=True)
class _Consumed:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def _normalize(record: RawRecord) -> Result:
    consumed = _Consumed(
        Topic.RAW.value, record.partition, record.offset, record.key.encode(), record.value, record.headers.to_kafka()
    )
    return Processor(default_mappers(), RawSealer({}, None)).process(consumed)


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    await ensure_topics(kafka_bootstrap)
    kafka = create_producer(kafka_bootstrap, client_id="opusdns-hostile-test")
    await kafka.start()
    yield kafka
    await kafka.stop()


async def test_an_event_the_model_refuses_is_quarantined_alone_and_the_page_moves_on(
    kafka_bootstrap: str, pg_dsn: str, producer: AIOKafkaProducer
) -> None:
    account = f"opus-{uuid.uuid4().hex[:8]}"
    sim = OpusDnsSimulator(api_keys={_KEY: ALL_PERMISSIONS}, seed=9)
    events = sim.generate(5, legacy_share=0.0)
    refused = {**events[2], "event_data": "not an object"}  # the payload model refuses it
    sim.enqueue([refused])
    config = PollerConfig(
        account=account, page_size=10, poll_interval_s=0.2, error_backoff_initial_s=0.05, error_backoff_max_s=0.2
    )
    stop = asyncio.Event()
    lease = ExpiringLease(
        pg_dsn, lease_name(account), service="opusdns-test", ttl_s=1.5, retry_interval_s=0.2, stop=stop
    )
    async with RawTail(kafka_bootstrap, account, page_event_ids) as raw, serve_simulator(sim) as url:
        async with OpusDnsClient(
            url, make_auth(url, api_key=SecretStr(_KEY)), timeout_s=5, retry=_FAST_RETRY
        ) as client:
            poller = OpusDnsPoller(client, RawPublisher(producer), lease, config)
            task = asyncio.create_task(poller.run(stop))
            try:
                # Before the fix: a payload error on every read, nothing acknowledged, for ever.
                await eventually(lambda: sim.pending() == [], "every event acknowledged")
                assert poller.not_ready_reason() is None
            finally:
                stop.set()
                await asyncio.wait_for(task, timeout=30)
        await raw.wait_for_events({event["event_id"] for event in events})
        await raw.drain()

    assert {ack.event_id for ack in sim.acked()} == {event["event_id"] for event in events}
    results = {record.headers.provider_event_id: _normalize(record) for record in raw.records}
    assert set(results) == {event["event_id"] for event in events}  # one record per event
    held = results[refused["event_id"]]
    assert isinstance(held, Quarantined)
    assert held.reason is QuarantineReason.SCHEMA_VIOLATION
    for event in events:
        if event["event_id"] != refused["event_id"]:
            mapped = results[event["event_id"]]
            assert isinstance(mapped, Mapped)  # before the fix: quarantined with its page
            assert {e.provider_event_id for e in mapped.events} == {event["event_id"]}
