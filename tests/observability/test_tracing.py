"""Trace context crosses topics in Kafka headers: a record's span is the child of the span that produced it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from regpipe.contract.taxonomy import Source, Transport
from regpipe.ingest.publisher import RawPublisher
from regpipe.observability.tracing import inject_trace, install_tracer_provider, record_span, shutdown_tracing


@dataclass
class _Metadata:
    partition: int = 0
    offset: int = 7


class _RecordingProducer:
    """Stands in for the producer: keeps what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_and_wait(self, topic: str, **record: Any) -> _Metadata:
        self.sent.append({"topic": topic, **record})
        return _Metadata()


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    install_tracer_provider("regpipe-tests", SimpleSpanProcessor(exporter))
    yield exporter
    shutdown_tracing()  # the rest of the suite runs untraced, as services do by default


async def test_raw_records_carry_the_publish_span_and_consumers_continue_it(spans: InMemorySpanExporter) -> None:
    spans.clear()
    producer = _RecordingProducer()
    publisher = RawPublisher(producer)
    await publisher.publish(
        b"{}", source=Source.MOST, transport=Transport.WEBHOOK, content_type="application/json", provider_event_id="e1"
    )
    raw_headers: list[tuple[str, bytes]] = producer.sent[0]["headers"]
    assert any(key == "traceparent" for key, _ in raw_headers)

    with record_span("normalize", parent_headers=raw_headers):
        out_headers: list[tuple[str, bytes]] = []
        inject_trace(out_headers)
    with record_span("deduplicate", parent_headers=out_headers):
        pass

    finished = {span.name: span for span in spans.get_finished_spans()}
    publish, normalize, dedup = finished["publish raw"], finished["normalize"], finished["deduplicate"]
    assert publish.context is not None
    assert normalize.context is not None
    assert dedup.context is not None
    assert normalize.context.trace_id == publish.context.trace_id == dedup.context.trace_id
    assert normalize.parent is not None
    assert normalize.parent.span_id == publish.context.span_id
    assert dedup.parent is not None
    assert dedup.parent.span_id == normalize.context.span_id


def test_a_record_without_trace_headers_starts_a_new_trace(spans: InMemorySpanExporter) -> None:
    spans.clear()
    with record_span("normalize", parent_headers=[("source", b"most")]):
        pass
    (span,) = spans.get_finished_spans()
    assert span.parent is None
