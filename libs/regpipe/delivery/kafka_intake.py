"""The intake's Kafka side, on FastStream: a batch subscriber of the public topic, `read_committed`.

FastStream's `nack_on_error` ack policy gives the order the guarantee needs: the handler stores the batch in
PostgreSQL, and only when it returns are the offsets committed; when it raises (PostgreSQL unreachable), the
consumer seeks back to the batch's first records and reads them again. Records that are not canonical events
are counted and logged with their position, then skipped (a bug upstream must not stop every subscriber).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import asyncpg
from faststream.kafka import KafkaBroker, Topic
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy

from regpipe.contract import CanonicalEvent, RecordDecodeError, from_kafka_record
from regpipe.delivery.intake import Intake
from regpipe.kafka.connection import KafkaConnection, kafka_connection
from regpipe.observability.batch_tracing import BatchTraceMiddleware
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import DELIVERY_SKIPPED

__all__ = ["IntakeConfig", "create_intake_broker"]

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class IntakeConfig:
    """Where the intake reads from."""

    topic: str
    group_id: str
    client_id: str = "regpipe-delivery"
    max_records: int = 500
    session_timeout_ms: int = 10_000
    retry_pause_s: float = 1.0  # after a failed batch (PostgreSQL unreachable), before it is read again


def _decode(records: tuple[Any, ...]) -> list[CanonicalEvent]:
    events: list[CanonicalEvent] = []
    for record in records:
        try:
            events.append(from_kafka_record(record.value or b"", list(record.headers or ())))
        except RecordDecodeError as exc:
            DELIVERY_SKIPPED.labels("undecodable").inc()
            _log.warning(
                "skipping a record that is not a canonical event",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                reason=str(exc)[:300],
            )
    return events


async def _undecoded(_: StreamMessage[Any]) -> None:
    """FastStream's decoder, made a no-op: the handler decodes the CloudEvents binding from the raw records."""
    return None


def create_intake_broker(kafka: KafkaConnection | str, config: IntakeConfig, intake: Intake) -> KafkaBroker:
    """A broker whose one subscriber turns each batch of public events into stored jobs, then commits."""
    # Per-message logs at DEBUG; a failing batch is still logged at ERROR by FastStream.
    connection = kafka_connection(kafka)
    broker = KafkaBroker(
        connection.bootstrap_servers,
        security=connection.broker_security(),
        client_id=config.client_id,
        logger=logging.getLogger("regpipe.delivery.intake"),
        log_level=logging.DEBUG,
        # Each event's trace goes on in a `delivery intake` span (FastStream's middleware alone starts a new trace
        # per batch); both are no-ops unless OTEL_* switches tracing on.
        middlewares=(KafkaTelemetryMiddleware(), BatchTraceMiddleware("delivery intake")),
    )

    @broker.subscriber(
        # Topics are provisioned from the registry, never by a service (its principal may not create them).
        Topic(config.topic, declare=False),
        group_id=config.group_id,
        batch=True,
        max_records=config.max_records,
        batch_timeout_ms=50,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        session_timeout_ms=config.session_timeout_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_undecoded,
    )
    async def store_batch(message: KafkaMessage) -> None:
        raw = message.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        try:
            await intake.store(_decode(records))
        except (asyncpg.PostgresError, OSError):
            # Not stored, so not committed: FastStream seeks back and the batch is read again, after a pause
            # that keeps an unreachable database from turning into a busy loop.
            await asyncio.sleep(config.retry_pause_s)
            raise

    return broker
