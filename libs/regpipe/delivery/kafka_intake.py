"""The intake's Kafka side, on FastStream: a batch subscriber of the public topic, `read_committed`.

FastStream's `nack_on_error` ack policy gives the order the guarantee needs: the handler stores the batch in
PostgreSQL, and only when it returns are the offsets committed; when it raises (PostgreSQL unreachable), the
consumer seeks back to the batch's first records and reads them again. Records that are not canonical events
are counted and logged with their position, then skipped (a bug upstream must not stop every subscriber).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy

from regpipe.contract import CanonicalEvent, RecordDecodeError, from_kafka_record
from regpipe.delivery.intake import Intake
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import DELIVERY_UNDECODABLE

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


def _decode(records: tuple[Any, ...]) -> list[CanonicalEvent]:
    events: list[CanonicalEvent] = []
    for record in records:
        try:
            events.append(from_kafka_record(record.value or b"", list(record.headers or ())))
        except RecordDecodeError as exc:
            DELIVERY_UNDECODABLE.inc()
            _log.warning(
                "skipping a record that is not a canonical event",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                reason=str(exc)[:300],
            )
    return events


def create_intake_broker(bootstrap_servers: str, config: IntakeConfig, intake: Intake) -> KafkaBroker:
    """A broker whose one subscriber turns each batch of public events into stored jobs, then commits."""
    broker = KafkaBroker(bootstrap_servers, client_id=config.client_id, logger=None)

    @broker.subscriber(
        config.topic,
        group_id=config.group_id,
        batch=True,
        max_records=config.max_records,
        batch_timeout_ms=50,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        session_timeout_ms=config.session_timeout_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def store_batch(_: list[bytes], message: KafkaMessage) -> None:
        raw = message.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        await intake.store(_decode(records))

    return broker
