"""The aggregator's consumer on `registrar.events.v1`, built on FastStream (`KafkaBroker`).

One batch subscriber in the aggregator's own consumer group, `isolation_level="read_committed"` (only events of
committed deduplicator transactions), `AckPolicy.MANUAL`: a batch is acknowledged (its offsets committed) only after
the PostgreSQL transaction that applied it has committed. FastStream meets every guarantee this needs, so no part
is written on aiokafka directly:

- FastStream hands batches over one at a time and `ack()` commits the consumer's consumed positions, which are
  exactly the end of the batch just applied;
- while PostgreSQL is down the handler keeps retrying the same batch (the service reports not ready), so nothing is
  consumed past it; on shutdown it gives up without acknowledging, and the batch comes again;
- anything unexpected rewinds the batch (`nack`) rather than let the next batch's commit skip it;
- a commit that fails because the partition moved to another replica is harmless: the new owner applies the batch
  again and the recorded event ids make that a no-op.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import stamina
from aiokafka.errors import KafkaError
from faststream import AckPolicy, StreamMessage
from faststream.kafka import KafkaBroker, Topic
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware

from regpipe.aggregate.errors import StoreUnavailableError
from regpipe.aggregate.intake import decode_records
from regpipe.aggregate.scheduler import Clock
from regpipe.aggregate.store import apply_events
from regpipe.kafka.connection import KafkaConnection, kafka_connection
from regpipe.observability.batch_tracing import BatchTraceMiddleware
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import AGGREGATOR_RECORDS, RECORDS_CONSUMED, STAGE_LATENCY

__all__ = ["ConsumerConfig", "EventApplier", "build_broker", "skip_body"]

_STAGE = "aggregator"
_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    """Where the aggregator reads and how much at a time."""

    topic: str
    group_id: str = "regpipe-aggregator"
    batch_max: int = 500
    client_id: str = "regpipe-aggregator"


class EventApplier:
    """Applies one consumed batch to the store, retrying while PostgreSQL is unavailable."""

    def __init__(self, pool: asyncpg.Pool, clock: Clock, *, on_applied: Callable[[], None]) -> None:
        self._pool = pool
        self._clock = clock
        self._stop = asyncio.Event()
        self._on_applied = on_applied
        self.store_error: str | None = None

    def stop(self) -> None:
        """Give up retrying a batch PostgreSQL refuses (on shutdown); it stays unacknowledged and comes again."""
        self._stop.set()

    async def handle(self, message: KafkaMessage) -> None:
        """Apply the batch in `message`, then acknowledge it; never acknowledge what is not committed."""
        raw = message.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        try:
            with STAGE_LATENCY.labels(_STAGE).time():
                applied = await self._apply(records)
        except BaseException:
            await message.nack()  # rewind: the next batch's commit must not skip this one
            raise
        if not applied:
            return  # stopping: neither acknowledged nor rewound; the next owner reads it again
        try:
            await message.ack()
        except KafkaError as exc:
            # The partition moved on a rebalance; its next owner re-applies the batch, which changes nothing.
            _log.warning("commit after apply failed; the batch will be re-applied idempotently", error=str(exc))
        RECORDS_CONSUMED.labels(_STAGE).inc(len(records))
        self._on_applied()

    async def _apply(self, records: tuple[object, ...]) -> bool:
        intake = decode_records(records)
        for reason, count in intake.skipped.items():
            if count:
                AGGREGATOR_RECORDS.labels(reason.value).inc(count)
        async for attempt in stamina.retry_context(
            on=StoreUnavailableError, attempts=None, timeout=None, wait_initial=0.2, wait_max=5.0
        ):
            with attempt:
                if self._stop.is_set():
                    return False
                try:
                    result = await apply_events(self._pool, intake.events, now=self._clock())
                except StoreUnavailableError as exc:
                    if self.store_error is None:
                        _log.warning("PostgreSQL unavailable; consumption paused until it is back", error=str(exc))
                    self.store_error = str(exc)
                    raise
        if self.store_error is not None:
            _log.info("PostgreSQL is back; consuming again")
        self.store_error = None
        AGGREGATOR_RECORDS.labels("applied").inc(result.applied)
        AGGREGATOR_RECORDS.labels("duplicate").inc(result.duplicates)
        return True


async def skip_body(message: StreamMessage[Any]) -> None:
    """The subscriber's decoder: none. The handler decodes the raw records itself (`intake`), once; FastStream's own
    decoder parsed every record's JSON a second time only to hand the handler a body it never reads."""
    del message


def build_broker(kafka: KafkaConnection | str, config: ConsumerConfig, applier: EventApplier) -> KafkaBroker:
    """A broker with the aggregator's one subscriber (started and stopped by the caller)."""
    # Each event's trace goes on in an `aggregate` span (FastStream's middleware alone starts a new trace per batch);
    # both are no-ops unless OTEL_* switches tracing on.
    connection = kafka_connection(kafka)
    broker = KafkaBroker(
        connection.bootstrap_servers,
        security=connection.broker_security(),
        client_id=config.client_id,
        logger=None,
        middlewares=(KafkaTelemetryMiddleware(), BatchTraceMiddleware("aggregate")),
    )
    subscriber = broker.subscriber(
        # Topics are provisioned from the registry, never by a service (its principal may not create them).
        Topic(config.topic, declare=False),
        group_id=config.group_id,
        batch=True,
        max_records=config.batch_max,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        decoder=skip_body,
    )
    subscriber(applier.handle)
    return broker
