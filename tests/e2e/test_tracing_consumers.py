"""The FastStream consumers continue a canonical event's trace: the aggregator's and the delivery intake's spans of
an event published on the real broker with a W3C `traceparent` are children of the span that published it (same
trace, parent = the publishing span), whatever else shares their batch. FastStream's telemetry middleware alone
gave each batch a new trace: an event's trace ended at the deduplicator."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime

import asyncpg
import pytest
from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from regpipe.aggregate.consumer import ConsumerConfig, EventApplier, build_broker
from regpipe.contract import CanonicalEvent, to_kafka_record
from regpipe.delivery.intake import Intake
from regpipe.delivery.kafka_intake import IntakeConfig, create_intake_broker
from regpipe.observability.tracing import inject_trace, install_tracer_provider, record_span, shutdown_tracing
from tests.aggregate.databases import fresh_database
from tests.conditions import eventually
from tests.dedup.events import expiring
from tests.kafka_io import create_topics, produce_records, unique

pytestmark = pytest.mark.integration

#: The span each consumer records per event: the aggregator's, the delivery intake's.
_CONSUMER_SPANS = ("aggregate", "delivery intake")


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    install_tracer_provider("regpipe-tests", SimpleSpanProcessor(exporter))
    yield exporter
    shutdown_tracing()  # the rest of the suite runs untraced, as services do by default


@pytest.fixture
async def pool(pg_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    created = await asyncpg.create_pool(await fresh_database(pg_dsn), min_size=1, max_size=4)
    yield created
    await created.close()


def _now() -> datetime:
    return datetime.now(UTC)


async def _publish_traced(bootstrap: str, topic: str, events: list[CanonicalEvent]) -> None:
    """Publish each event under its own producer span, as the deduplicator does."""
    records = []
    for event in events:
        record = to_kafka_record(event)
        headers = list(record.headers)
        with record_span("publish event", kind=SpanKind.PRODUCER, attributes={"regpipe.event_id": str(event.id)}):
            inject_trace(headers)
        records.append((record.key, record.value, headers))
    await produce_records(bootstrap, topic, records)


async def _publish_untraced(bootstrap: str, topic: str, events: list[CanonicalEvent]) -> None:
    await produce_records(bootstrap, topic, [(r.key, r.value, list(r.headers)) for r in map(to_kafka_record, events)])


def _spans_named(finished: Sequence[ReadableSpan], name: str) -> dict[str, list[ReadableSpan]]:
    """The spans called `name`, by the event id they name."""
    by_event: dict[str, list[ReadableSpan]] = {}
    for span in finished:
        if span.name == name and span.attributes is not None:
            by_event.setdefault(str(span.attributes.get("regpipe.event_id")), []).append(span)
    return by_event


async def test_the_aggregator_and_the_delivery_intake_continue_each_events_trace(
    kafka_bootstrap: str, pool: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    topic = unique("events-traced")
    await create_topics(kafka_bootstrap, [topic], partitions=1)
    traced = [expiring(uuid.uuid4(), domain=f"traced{i}.example") for i in range(3)]
    untraced = [expiring(uuid.uuid4(), domain=f"untraced{i}.example") for i in range(2)]
    spans.clear()
    # Untraced events around the traced ones: one batch may hold events of several traces, and of none.
    await _publish_untraced(kafka_bootstrap, topic, untraced[:1])
    await _publish_traced(kafka_bootstrap, topic, traced)
    await _publish_untraced(kafka_bootstrap, topic, untraced[1:])
    publishes = {
        event_id: span for event_id, (span,) in _spans_named(spans.get_finished_spans(), "publish event").items()
    }
    every_event = {str(event.id) for event in [*traced, *untraced]}

    brokers: list[KafkaBroker] = [
        build_broker(
            kafka_bootstrap,
            ConsumerConfig(topic=topic, group_id=unique("aggregator")),
            EventApplier(pool, _now, on_applied=lambda: None),
        ),
        create_intake_broker(kafka_bootstrap, IntakeConfig(topic=topic, group_id=unique("intake")), Intake(pool)),
    ]
    for broker in brokers:
        await broker.start()
    try:

        def both_handled_every_event() -> bool:
            finished = list(spans.get_finished_spans())
            return all(set(_spans_named(finished, name)) >= every_event for name in _CONSUMER_SPANS)

        await eventually(both_handled_every_event, "the aggregator and the delivery intake handled every event")
    finally:
        for broker in brokers:
            await broker.stop()

    finished = list(spans.get_finished_spans())
    for name in _CONSUMER_SPANS:
        by_event = _spans_named(finished, name)
        for event_id, publish in publishes.items():
            assert publish.context is not None
            for span in by_event[event_id]:  # more than one only if a batch was read again
                assert span.context is not None
                assert span.context.trace_id == publish.context.trace_id, f"{name} of {event_id}: another trace"
                assert span.parent is not None, f"{name} of {event_id}: no parent"
                assert span.parent.span_id == publish.context.span_id, f"{name} of {event_id}: another parent"
                assert span.kind is SpanKind.CONSUMER
        for event in untraced:  # no trace to continue: each starts its own
            assert all(span.parent is None for span in by_event[str(event.id)])
