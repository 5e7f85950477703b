"""Poll replies that cannot be handled whole (issue 12), against the real broker, the real PostgreSQL lease and the
OpenSRS simulator on a loopback port: an unmappable event is quarantined alone, an event without `event_id` does
not block the account, and a reply the parser refuses is kept, isolated, counted and reported as a blocked account.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from regpipe.contract.sealing import RawSealer
from regpipe.contract.taxonomy import Source
from regpipe.ingest.publisher import RawPublisher
from regpipe.kafka import create_producer, ensure_topics
from regpipe.kafka.topics import Topic
from regpipe.leadership.lease import ExpiringLease
from regpipe.normalize.processor import Mapped, Processor, Quarantined, Result
from regpipe.normalize.registry import default_mappers
from regpipe.providers.mapper import QuarantineReason
from regpipe.providers.opensrs.client import OpenSRSClient
from regpipe.providers.opensrs.poller import OpenSRSPoller, PollerConfig, lease_name
from regpipe.simulators.kit.serving import serve
from regpipe.simulators.opensrs.api import Fault, OpenSRSSimulator
from regpipe.simulators.opensrs.events import generate_events
from tests.conditions import eventually
from tests.kafka_io import RawRecord, RawTail

pytestmark = pytest.mark.integration

KEY = "00112233445566778899aabbccddeeff"
HOSTILE_ID = "hostile-entity-0001"
_DOCTYPE = b'<!DOCTYPE OPS_envelope SYSTEM "ops.dtd">'
_ENTITIES = b'<!DOCTYPE OPS_envelope [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'


def _config(limit: int) -> PollerConfig:
    return PollerConfig(limit=limit, interval_s=0.2, backoff_initial_s=0.05, backoff_max_s=0.2, error_pause_s=0.3)


def _errors(kind: str) -> float:
    return REGISTRY.get_sample_value("regpipe_poll_errors_total", {"source": "opensrs", "kind": kind}) or 0.0


def _blocked_gauge(account: str) -> float | None:
    return REGISTRY.get_sample_value("regpipe_poll_blocked", {"source": "opensrs", "account": account})


@dataclass(frozen=True, slots=True)
class _Consumed:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def _normalize(record: RawRecord) -> Result:
    """What the normalizer makes of one raw record (its pure core, as the stage runs it)."""
    consumed = _Consumed(
        Topic.RAW.value, record.partition, record.offset, record.key.encode(), record.value, record.headers.to_kafka()
    )
    return Processor(default_mappers(), RawSealer({}, None)).process(consumed)


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    await ensure_topics(kafka_bootstrap)
    kafka = create_producer(kafka_bootstrap, client_id="opensrs-hostile-test")
    await kafka.start()
    yield kafka
    await kafka.stop()


@asynccontextmanager
async def _serving(simulator: OpenSRSSimulator) -> AsyncIterator[str]:
    """The simulator, except that a reply holding the hostile event declares entities (as a compromised or broken
    provider front end might): the hardened parser refuses it whole."""

    async def handle(request: Request) -> Response:
        response = await simulator.handle(request)
        body = bytes(response.body)
        if HOSTILE_ID.encode() in body:
            body = body.replace(_DOCTYPE, _ENTITIES).replace(HOSTILE_ID.encode(), b"&b;")
        return Response(body, status_code=response.status_code, media_type="text/xml")

    app = Starlette(routes=[Route("/", handle, methods=["POST"])])
    async with serve(app, on_close=simulator.close) as url:
        yield url


@asynccontextmanager
async def _polling(
    url: str, username: str, producer: AIOKafkaProducer, pg_dsn: str, limit: int
) -> AsyncIterator[OpenSRSPoller]:
    stop = asyncio.Event()
    lease = ExpiringLease(
        pg_dsn, lease_name(username), service="opensrs-test", ttl_s=1.5, retry_interval_s=0.2, stop=stop
    )
    async with OpenSRSClient(url, username=username, api_key=KEY, timeout_s=5) as client:
        poller = OpenSRSPoller(client, RawPublisher(producer), lease, _config(limit))
        task = asyncio.create_task(poller.run(stop))
        try:
            yield poller
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)


def _events(seed: int, n: int) -> list[dict[str, Any]]:
    return generate_events(random.Random(seed), n)


async def test_one_unmappable_event_is_quarantined_alone(
    kafka_bootstrap: str, pg_dsn: str, producer: AIOKafkaProducer
) -> None:
    username = f"reseller-{uuid.uuid4().hex[:8]}"
    simulator = OpenSRSSimulator({username: KEY}, seed=3)
    first, second = _events(31, 2)
    unknown = {**first, "event_id": uuid.uuid4().hex, "event": "EXPLODED"}
    simulator.enqueue(username, [first, unknown, second])
    async with RawTail(kafka_bootstrap, username) as raw, _serving(simulator) as url:
        async with _polling(url, username, producer, pg_dsn, limit=5):
            await eventually(lambda: not simulator.queued(username), "every event ACKed")
        await raw.wait_for(3)
        await raw.drain()

    results = {record.headers.provider_event_id: _normalize(record) for record in raw.records}
    assert set(results) == {first["event_id"], unknown["event_id"], second["event_id"]}  # one record per event
    held = results[unknown["event_id"]]
    assert isinstance(held, Quarantined)
    assert held.reason is QuarantineReason.UNKNOWN_EVENT_TYPE
    for event in (first, second):  # before the fix: quarantined with the unknown one, although all were ACKed
        mapped = results[event["event_id"]]
        assert isinstance(mapped, Mapped)
        assert [e.provider_event_id for e in mapped.events] == [event["event_id"]]


async def test_an_event_without_id_is_kept_once_and_does_not_block_the_account_at_limit_one(
    kafka_bootstrap: str, pg_dsn: str, producer: AIOKafkaProducer
) -> None:
    username = f"reseller-{uuid.uuid4().hex[:8]}"
    simulator = OpenSRSSimulator({username: KEY}, seed=4)
    idless_source, *events = _events(37, 3)
    idless = {key: value for key, value in idless_source.items() if key != "event_id"}
    simulator.enqueue(username, [idless, *events])
    kept = _errors("event_without_id")
    async with RawTail(kafka_bootstrap, username) as raw, _serving(simulator) as url:
        async with _polling(url, username, producer, pg_dsn, limit=1) as poller:
            # Before the fix: nothing published, nothing ACKed, for ever.
            await eventually(lambda: len(simulator.queued(username)) == 1, "every event behind the id-less one ACKed")
            await eventually(lambda: simulator.polls_by_user[username] >= 6, "polled on afterwards")
            assert poller.blocked is None
            assert poller.not_ready_reason() is None
        await raw.wait_for(3)
        await raw.drain()

    assert sorted(ack.event_id for ack in simulator.acked(username)) == sorted(e["event_id"] for e in events)
    assert sorted(r.headers.provider_event_id or "" for r in raw.records) == sorted(
        ["", *(e["event_id"] for e in events)]
    )
    (without_id,) = [record for record in raw.records if record.headers.provider_event_id is None]  # kept once
    result = _normalize(without_id)
    assert isinstance(result, Quarantined)
    assert result.reason is QuarantineReason.SCHEMA_VIOLATION
    assert _errors("event_without_id") == kept + 1


async def test_a_refused_reply_is_kept_isolated_and_reported_as_a_blocked_account(
    kafka_bootstrap: str, pg_dsn: str, producer: AIOKafkaProducer
) -> None:
    username = f"reseller-{uuid.uuid4().hex[:8]}"
    simulator = OpenSRSSimulator({username: KEY}, seed=5)
    before, after = _events(41, 2)
    hostile = {**_events(43, 1)[0], "event_id": HOSTILE_ID}
    simulator.enqueue(username, [before, hostile, after])
    refused = _errors("refused_reply")
    async with RawTail(kafka_bootstrap, username) as raw, _serving(simulator) as url:
        async with _polling(url, username, producer, pg_dsn, limit=5) as poller:
            # Before the fix: retried for ever, nothing kept, nothing ACKed, nothing said but a warning.
            await eventually(lambda: poller.blocked is not None, "the account reported blocked")
            assert [ack.event_id for ack in simulator.acked(username)] == [before["event_id"]]  # isolated
            reason = poller.not_ready_reason()
            assert reason is not None
            assert "blocked" in reason
            assert _blocked_gauge(username) == 1.0
            # A human removes the event at OpenSRS (here: acknowledges it by hand); polling resumes by itself.
            async with OpenSRSClient(url, username=username, api_key=KEY, timeout_s=5) as operator:
                await operator.ack(HOSTILE_ID)
            await eventually(lambda: not simulator.queued(username), "the event behind it ACKed", timeout_s=60)
            await eventually(lambda: poller.blocked is None, "unblocked")
            assert _blocked_gauge(username) == 0.0
        await raw.drain()

    kept = [record for record in raw.records if record.headers.provider_event_id is None]
    assert len(kept) == 2  # the whole reply that was refused, then the one event isolated, each once
    assert all(b"<!ENTITY" in record.value for record in kept)
    for record in kept:
        result = _normalize(record)
        assert isinstance(result, Quarantined)
        assert result.reason is QuarantineReason.INVALID_XML
        assert record.headers.source is Source.OPENSRS
    published = {record.headers.provider_event_id for record in raw.records} - {None}
    assert published == {before["event_id"], after["event_id"]}
    assert _errors("refused_reply") == refused + 2
    assert _errors("blocked") > 0


async def test_a_reply_cut_short_is_asked_again_and_one_that_stays_unreadable_is_kept_once_until_it_passes(
    kafka_bootstrap: str, pg_dsn: str, producer: AIOKafkaProducer
) -> None:
    username = f"reseller-{uuid.uuid4().hex[:8]}"
    simulator = OpenSRSSimulator({username: KEY}, seed=6)
    events = _events(47, 3)
    simulator.enqueue(username, events)
    # Three cut-short replies in a row at the configured limit, then three at limit 1: kept each time, then blocked;
    # the seventh reply is whole again.
    simulator.fail_next(Fault.MALFORMED, 6, action="POLL")
    async with RawTail(kafka_bootstrap, username) as raw, _serving(simulator) as url:
        async with _polling(url, username, producer, pg_dsn, limit=5) as poller:
            await eventually(lambda: not simulator.queued(username), "every event ACKed once replies are whole")
            await eventually(lambda: poller.blocked is None, "unblocked")
        await raw.wait_for(len(events) + 2)
        await raw.drain()

    kept = [record for record in raw.records if record.headers.provider_event_id is None]
    assert len(kept) == 2  # the third refusal in a row at limit 5, then at limit 1; the first two were asked again
    for record in kept:
        result = _normalize(record)
        assert isinstance(result, Quarantined)
        assert result.reason is QuarantineReason.INVALID_XML
    assert {record.headers.provider_event_id for record in raw.records} - {None} == {e["event_id"] for e in events}
    assert simulator.faults_served[Fault.MALFORMED] == 6
