"""The normalizer stage: consume `registrar.raw.v1` in a consumer group, map, produce, then commit.

Each batch goes through the same steps, the commit last (arroyo's shape): read a batch (`getmany`), map every
record with the pure `Processor` and hand what it yields to the producer (canonical events to
`registrar.normalized.v1`, quarantine records to `registrar.quarantine.v1`), wait until Kafka acknowledged all of
them, commit the batch's offsets. An offset is therefore only committed once its record is on one of the two
output topics: nothing is lost, and a crash at any point only re-maps (and re-publishes) uncommitted batches.

The steps of two consecutive batches overlap: batch N+1 is mapped and sent while Kafka is still acknowledging
batch N, whose offsets are committed before N+1's: mapping is CPU work, acknowledgement is waiting on the broker
(+7% throughput in `benchmarks/normalizer` against a local broker that acknowledges in about a millisecond; more
where acks=all spans replicas). Mapping yields to the event loop every few records so that the producer,
heartbeats and rebalances keep running during a long batch.

Guarantee: at-least-once into `registrar.normalized.v1` and `registrar.quarantine.v1`. Duplicates are possible
after a crash, a failed commit or a rebalance; canonical ids are deterministic, so the deduplicator downstream
drops them. On stop (SIGTERM) the batches in flight are finished and committed; if Kafka fails meanwhile the stage
raises `StageError` and leaves them uncommitted. A revocation waits until the batches in flight are committed, so
the next owner of a partition starts after them.

Kafka transactions (aiokafka's EOS v1: produce and `send_offsets_to_transaction` in one transaction per batch) were
measured and not adopted: at 500 records a batch they cost nothing measurable (2,675 vs 2,635-2,889 records/s),
but they would only drop duplicates the deduplicator drops anyway, while a SIGKILLed replica's open transaction
stalls every read_committed reader of its output partitions until the transaction times out (unless the same
transactional id comes back), fencing needs a stable transactional id per replica, and batches could no longer
overlap.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from regpipe.kafka.producer import create_producer
from regpipe.kafka.topics import Topic
from regpipe.normalize.errors import StageError
from regpipe.normalize.processor import Mapped, Processor, Quarantined
from regpipe.normalize.publish import Outgoing, send_all, wait_for_acks
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import (
    EMPTY_MAPPINGS,
    MAPPED_EVENTS,
    MAPPER_ERRORS,
    OFFSETS_COMMITTED,
    QUARANTINED,
    RECORDS_CONSUMED,
    STAGE_LATENCY,
)

__all__ = ["NormalizerStage", "StageConfig"]

_STAGE = "normalizer"
_YIELD_EVERY = 32
_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class StageConfig:
    """Topics, consumer group and batching of the stage."""

    group_id: str = "regpipe-normalizer"
    input_topic: str = Topic.RAW.value
    output_topic: str = Topic.NORMALIZED.value
    quarantine_topic: str = Topic.QUARANTINE.value
    batch_max: int = 500
    poll_timeout_ms: int = 500
    ack_timeout_s: float = 30.0
    session_timeout_ms: int = 10_000
    # One batch of raw records fans out to several MiB of events: large producer batches keep round trips few.
    producer_batch_bytes: int = 512 * 1024
    # A new group starts at the beginning of raw, the source of truth; replays are de-duplicated downstream.
    auto_offset_reset: Literal["earliest", "latest"] = "earliest"
    client_id: str = "regpipe-normalizer"


@dataclass
class _Flight:
    """A batch handed to the producer: what to wait for, then what to commit."""

    acks: list[asyncio.Future[Any]] = field(default_factory=list)
    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    tally: _Tally = field(default_factory=lambda: _Tally())


class NormalizerStage:
    """One replica of the stage: a consumer in the group, one producer, the batch loop."""

    def __init__(self, bootstrap_servers: str, processor: Processor, config: StageConfig) -> None:
        self._processor = processor
        self._config = config
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=config.group_id,
            client_id=config.client_id,
            enable_auto_commit=False,
            auto_offset_reset=config.auto_offset_reset,
            max_poll_records=config.batch_max,
            session_timeout_ms=config.session_timeout_ms,
            heartbeat_interval_ms=max(1000, config.session_timeout_ms // 3),
        )
        self._producer = create_producer(
            bootstrap_servers, client_id=config.client_id, max_batch_size=config.producer_batch_bytes
        )
        # Held while a batch is mapped, sent or settled; a revocation takes it to settle what is in flight.
        self._busy = asyncio.Lock()
        self._pending: _Flight | None = None
        self._failure: StageError | None = None
        self._running = False

    def ready(self) -> str | None:
        """None once both Kafka clients are started and the loop runs, else why not."""
        return None if self._running else "kafka clients not started"

    async def run(self, stop: asyncio.Event) -> None:
        """Run batches until `stop` is set; raise `StageError` (batches uncommitted) when Kafka fails."""
        await self._producer.start()
        try:
            await self._consumer.start()
            try:
                listener = _SettleOnRevoke(self._settle_before_revocation)
                self._consumer.subscribe([self._config.input_topic], listener=listener)
                self._running = True
                await self._loop(stop)
            finally:
                self._running = False
                await self._consumer.stop()
        finally:
            await self._producer.stop()

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            batch = await self._consumer.getmany(
                timeout_ms=self._config.poll_timeout_ms, max_records=self._config.batch_max
            )
            async with self._busy:
                if self._failure is not None:
                    raise self._failure
                flight = await self._map_and_send(batch) if batch else None
                # The previous batch was acknowledged meanwhile (or is now awaited): commit it before this one.
                await self._settle()
                self._pending = flight
        async with self._busy:
            await self._settle()
        if self._failure is not None:
            raise self._failure

    async def _map_and_send(self, batch: Mapping[TopicPartition, Sequence[Any]]) -> _Flight:
        """Map every record, then hand all output to the producer at once (so it fills large produce requests)."""
        flight = _Flight()
        outgoing: list[Outgoing] = []
        mapped = 0
        for tp, records in batch.items():
            for record in records:
                started = time.perf_counter()
                result = self._processor.process(record)
                flight.tally.latencies.append(time.perf_counter() - started)
                outgoing.extend(self._outgoing(record, result, flight.tally))
                mapped += 1
                if mapped % _YIELD_EVERY == 0:
                    # Lets the producer move the previous batch along while this one is mapped.
                    await asyncio.sleep(0)
            flight.offsets[tp] = records[-1].offset + 1
            flight.tally.consumed[tp] = len(records)
        flight.acks = await send_all(self._producer, outgoing, timeout_s=self._config.ack_timeout_s)
        return flight

    def _outgoing(self, record: Any, result: Mapped | Quarantined, tally: _Tally) -> list[Outgoing]:
        if isinstance(result, Mapped):
            tally.mapped(result)
            topic = self._config.output_topic
            return [Outgoing(topic, r.key, r.value, r.headers) for r in result.records]
        tally.quarantined(result)
        _log_quarantine(record, result)
        quarantined = result.record
        # The producer refuses a record with neither key nor value; an empty value keeps the headers.
        value = quarantined.value if quarantined.value is not None or quarantined.key else b""
        return [Outgoing(self._config.quarantine_topic, quarantined.key, value, quarantined.headers)]

    async def _settle(self) -> None:
        """Wait until the batch in flight is acknowledged, then commit it."""
        flight, self._pending = self._pending, None
        if flight is None:
            return
        await wait_for_acks(flight.acks, timeout_s=self._config.ack_timeout_s)
        committed = await self._commit(flight.offsets)
        flight.tally.report(sum(flight.tally.consumed[tp] for tp in committed))

    async def _commit(self, offsets: dict[TopicPartition, int]) -> list[TopicPartition]:
        """Commit what is still ours and return it."""
        # After a rebalance the batch may hold records of partitions no longer ours: the new owner re-maps them.
        assigned = self._consumer.assignment()
        mine = {tp: offset for tp, offset in offsets.items() if tp in assigned}
        if not mine:
            return []
        try:
            async with asyncio.timeout(self._config.ack_timeout_s):
                await self._consumer.commit(mine)
        except CommitFailedError:
            _log.warning("commit refused after a rebalance; the new owner re-maps the batch", partitions=len(mine))
            return []
        except (KafkaError, TimeoutError) as exc:
            raise StageError(f"committing offsets failed: {type(exc).__name__}: {exc}") from exc
        return list(mine)

    async def _settle_before_revocation(self, revoked: set[TopicPartition]) -> None:
        """Commit the batches in flight while the partitions are still ours (called by the rebalance listener)."""
        try:
            async with asyncio.timeout(self._config.ack_timeout_s * 2):
                async with self._busy:
                    await self._settle()
        except StageError as exc:
            # aiokafka swallows listener errors: hand it to the loop, which stops the stage uncommitted.
            self._failure = exc
        except TimeoutError:
            _log.warning("batch still in flight at revocation; its records may be mapped twice")
        _log.info("partitions revoked", partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in revoked))


class _Tally:
    """Metrics of one batch, reported once it is published and committed (counts match what was handled)."""

    def __init__(self) -> None:
        self.consumed: dict[TopicPartition, int] = {}
        self.events: Counter[tuple[str, str]] = Counter()
        self.quarantines: Counter[tuple[str, str]] = Counter()
        self.errors: Counter[tuple[str, str]] = Counter()
        self.empty: Counter[str] = Counter()
        self.latencies: list[float] = []

    def mapped(self, result: Mapped) -> None:
        if not result.events:
            self.empty[result.source.value] += 1
        for event in result.events:
            self.events[(result.source.value, event.type.value)] += 1

    def quarantined(self, result: Quarantined) -> None:
        self.quarantines[(result.source, result.reason.value)] += 1
        if result.error is not None:
            self.errors[(result.source, result.error)] += 1

    def report(self, committed: int) -> None:
        RECORDS_CONSUMED.labels(_STAGE).inc(sum(self.consumed.values()))
        OFFSETS_COMMITTED.labels(_STAGE).inc(committed)
        for (source, type_), count in self.events.items():
            MAPPED_EVENTS.labels(_STAGE, source, type_).inc(count)
        for (source, reason), count in self.quarantines.items():
            QUARANTINED.labels(source, reason).inc(count)
        for (source, error), count in self.errors.items():
            MAPPER_ERRORS.labels(source, error).inc(count)
        for source, count in self.empty.items():
            EMPTY_MAPPINGS.labels(source).inc(count)
        histogram = STAGE_LATENCY.labels(_STAGE)
        for seconds in self.latencies:
            histogram.observe(seconds)


def _log_quarantine(record: Any, result: Quarantined) -> None:
    position = {"raw_topic": record.topic, "raw_partition": record.partition, "raw_offset": record.offset}
    if result.error is not None:
        # A mapper bug: loud, because every further record of its kind will be quarantined too until it is fixed.
        _log.error(
            "mapper error, record quarantined",
            source=result.source,
            error=result.error,
            detail=result.message,
            **position,
        )
    else:
        _log.warning(
            "record quarantined", source=result.source, reason=result.reason.value, detail=result.message, **position
        )


class _SettleOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """Holds a revocation until the batches in flight are committed, so the next owner starts after them."""

    def __init__(self, settle: Callable[[set[TopicPartition]], Awaitable[None]]) -> None:
        self._settle = settle

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._settle(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        _log.info("partitions assigned", partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in assigned))
