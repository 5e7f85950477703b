"""OpenTelemetry tracing across topics: each stage continues the trace its input record carries in Kafka headers.

A W3C `traceparent` (and `tracestate`) header travels from the ingestor's raw record through every stage's
output, so one provider event can be followed across services. Off by default: it is switched on by the
standard variables (`OTEL_TRACES_EXPORTER=otlp|console`, or `OTEL_EXPORTER_OTLP_ENDPOINT`, with
`OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_*`, `OTEL_TRACES_SAMPLER` read by the SDK itself). While off, the hot
paths skip the span work entirely.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

__all__ = [
    "TRACE_HEADERS",
    "configure_tracing",
    "continue_each",
    "inject_trace",
    "install_tracer_provider",
    "record_span",
    "shutdown_tracing",
    "trace_step",
    "tracing_enabled",
    "with_trace",
]

TRACE_HEADERS = ("traceparent", "tracestate")
_TRACER_NAME = "regpipe"
_enabled = False
_provider: TracerProvider | None = None


def tracing_enabled() -> bool:
    """True once a tracer provider with an exporter is installed in this process."""
    return _enabled


def install_tracer_provider(service: str, processor: SpanProcessor) -> TracerProvider:
    """Install a provider for `service` exporting through `processor` (tests pass an in-memory exporter's).

    OpenTelemetry allows one global provider per process: a second call adds its processor to the first one.
    """
    global _enabled, _provider  # one provider per process, by OpenTelemetry's design
    if _provider is None:
        _provider = TracerProvider(resource=Resource.create({"service.name": service}))
        trace.set_tracer_provider(_provider)
    _provider.add_span_processor(processor)
    _enabled = True
    return _provider


def shutdown_tracing() -> None:
    """Export what is buffered and switch tracing off (a service calls this when it stops)."""
    global _enabled, _provider
    if _provider is not None:
        _provider.force_flush()
        _provider.shutdown()
    _enabled = False


def _exporter_from_environment() -> SpanExporter | None:
    wanted = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not wanted and os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        wanted = "otlp"
    if wanted in ("", "none"):
        return None
    if wanted == "console":
        # One JSON object per line, so a span can be told from a log line and read back.
        return ConsoleSpanExporter(formatter=lambda span: span.to_json(indent=None) + "\n")
    if wanted == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # only when asked for

        return OTLPSpanExporter()
    raise ValueError(f"OTEL_TRACES_EXPORTER={wanted!r} is not supported (otlp, console or none)")


def configure_tracing(service: str) -> TracerProvider | None:
    """Switch tracing on for `service` when the OTEL_* variables ask for it; None when they do not."""
    exporter = _exporter_from_environment()
    if exporter is None:
        return None
    name = os.environ.get("OTEL_SERVICE_NAME") or f"regpipe-{service}"
    return install_tracer_provider(name, BatchSpanProcessor(exporter))


def _carrier(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    return {key: value.decode("latin-1") for key, value in headers if key in TRACE_HEADERS and value is not None}


def inject_trace(headers: list[tuple[str, bytes]]) -> None:
    """Append the current span's trace headers to a Kafka record's headers (nothing while tracing is off)."""
    if not _enabled:
        return
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    headers.extend((key, value.encode("latin-1")) for key, value in carrier.items() if key in TRACE_HEADERS)


@contextmanager
def record_span(
    name: str,
    *,
    parent_headers: Sequence[tuple[str, bytes]] | None = None,
    kind: SpanKind = SpanKind.CONSUMER,
    attributes: Mapping[str, str | int] | None = None,
) -> Iterator[Span | None]:
    """A span for handling one record: child of the trace `parent_headers` carry (a new trace if they carry
    none), or of the current span when `parent_headers` is None. Yields None while tracing is off."""
    if not _enabled:
        yield None
        return
    token = otel_context.attach(propagate.extract(_carrier(parent_headers))) if parent_headers is not None else None
    try:
        tracer = trace.get_tracer(_TRACER_NAME)
        with tracer.start_as_current_span(name, kind=kind, attributes=dict(attributes or {})) as span:
            yield span
    finally:
        if token is not None:
            otel_context.detach(token)


@contextmanager
def continue_each(
    name: str, records: Iterable[tuple[Sequence[tuple[str, bytes]], Mapping[str, str | int]]]
) -> Iterator[None]:
    """Around handling a batch together: one span per record (its headers, its attributes), each the child of the
    trace that record carries, so every event's trace goes on through a batch consumer. None is made current (a
    batch has many parents); each records the failure of the batch. Nothing while tracing is off."""
    if not _enabled:
        yield
        return
    tracer = trace.get_tracer(_TRACER_NAME)
    spans = [
        tracer.start_span(
            name, context=propagate.extract(_carrier(headers)), kind=SpanKind.CONSUMER, attributes=dict(attributes)
        )
        for headers, attributes in records
    ]
    try:
        yield
    except Exception as exc:
        for span in spans:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        raise
    finally:
        for span in spans:
            span.end()


def trace_step(
    name: str, parent_headers: Sequence[tuple[str, bytes]], attributes: Mapping[str, str | int] | None = None
) -> list[tuple[str, bytes]]:
    """Record one stage's step for a record (a span, child of the trace its headers carry) and return the trace
    headers its outputs carry on. Empty while tracing is off."""
    if not _enabled:
        return []
    with record_span(name, parent_headers=parent_headers, attributes=attributes):
        carried: list[tuple[str, bytes]] = []
        inject_trace(carried)
    return carried


def with_trace(headers: Sequence[tuple[str, bytes]], carried: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """`headers` with their trace headers replaced by `carried` (unchanged when `carried` is empty)."""
    if not carried:
        return list(headers)
    return [pair for pair in headers if pair[0] not in TRACE_HEADERS] + list(carried)
