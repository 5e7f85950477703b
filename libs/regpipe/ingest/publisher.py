"""Publishes raw provider records to `registrar.raw.v1`, returning only once Kafka has acknowledged them.

Every ingestor goes through this one class, so the at-least-once rule lives in one place: a caller may answer
or ACK the provider only after `publish` has returned.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from opentelemetry.trace import SpanKind

from regpipe.contract.raw import EmailAuth, RawHeaders, raw_key
from regpipe.contract.sealing import RawSealer
from regpipe.contract.taxonomy import Source, Transport
from regpipe.kafka.errors import PublishError
from regpipe.kafka.topics import Topic
from regpipe.observability.tracing import inject_trace, record_span

__all__ = ["PublishedRecord", "RawPublisher"]


@dataclass(frozen=True, slots=True)
class PublishedRecord:
    """Where an acknowledged raw record landed."""

    key: str
    partition: int
    offset: int
    ingest_id: str  # the raw record's id until a canonical id exists: log lines about the event carry it

    @property
    def log_fields(self) -> dict[str, str | int]:
        """What an ingestor's log line about this record names it by: the same field names as the normalizer's."""
        return {
            "ingest_id": self.ingest_id,
            "raw_key": self.key,
            "raw_partition": self.partition,
            "raw_offset": self.offset,
        }


class RawPublisher:
    """Seals (when configured), keys and publishes raw records; waits for the broker's acknowledgement."""

    def __init__(
        self,
        producer: AIOKafkaProducer,
        *,
        sealer: RawSealer | None = None,
        topic: str = Topic.RAW.value,
        timeout_s: float = 8.0,
    ) -> None:
        self._producer = producer
        self._sealer = sealer
        self._topic = topic
        self._timeout_s = timeout_s

    async def publish(
        self,
        body: bytes,
        *,
        source: Source,
        transport: Transport,
        content_type: str,
        provider_event_id: str | None = None,
        provider_event_type: str | None = None,
        account: str | None = None,
        email_auth: EmailAuth | None = None,
    ) -> PublishedRecord:
        """Publish `body` untouched (or sealed) and return its position; raise `PublishError` if not acknowledged."""
        key = raw_key(source, provider_event_id, body)
        value, seal = self._sealer.seal(body) if self._sealer is not None else (body, None)
        # The arguments are already typed: skip validation on this hot path (defaults still fill received_at/ingest_id).
        headers = RawHeaders.model_construct(
            source=source,
            transport=transport,
            content_type=content_type,
            provider_event_id=provider_event_id,
            provider_event_type=provider_event_type,
            account=account,
            seal=seal,
            email_auth=email_auth,
        )
        try:
            with record_span("publish raw", kind=SpanKind.PRODUCER, attributes={"regpipe.raw_key": key}):
                kafka_headers = headers.to_kafka()
                inject_trace(kafka_headers)
                async with asyncio.timeout(self._timeout_s):
                    metadata = await self._producer.send_and_wait(
                        self._topic, value=value, key=key.encode(), headers=kafka_headers
                    )
        except (KafkaError, TimeoutError) as exc:
            error = PublishError(f"raw record {key} not acknowledged by Kafka: {type(exc).__name__}: {exc}")
            error.ingest_id = str(headers.ingest_id)
            raise error from exc
        return PublishedRecord(
            key=key, partition=metadata.partition, offset=metadata.offset, ingest_id=str(headers.ingest_id)
        )
