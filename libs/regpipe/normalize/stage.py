"""The normalizer stage: consume `registrar.raw.v1` in a consumer group, map, produce, then commit.

Each batch goes through the same steps, the commit last (arroyo's shape): read a batch (`getmany`), map every
record with the pure `Processor`, produce canonical events to `registrar.normalized.v1` and quarantine records to
`registrar.quarantine.v1`, wait until Kafka acknowledged all of them, commit the batch's offsets. An offset is
therefore only committed once its record is on one of the two output topics: nothing is lost, and a crash at any
point only re-maps (and re-publishes) the uncommitted batch.

Guarantee: at-least-once into `registrar.normalized.v1` and `registrar.quarantine.v1`. Duplicates are possible
after a crash, a failed commit or a rebalance during a batch; canonical ids are deterministic, so the deduplicator
downstream drops them. On stop (SIGTERM) the in-flight batch is finished and committed; if Kafka fails meanwhile
the stage raises `StageError` and leaves the batch uncommitted. On a rebalance the revocation waits until the
in-flight batch is committed, so the next owner of a partition starts after it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from regpipe.kafka.producer import create_producer
from regpipe.kafka.topics import Topic
from regpipe.normalize.errors import StageError
from regpipe.normalize.processor import Mapped, Processor
from regpipe.normalize.publish import Outgoing, publish_all
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
from regpipe.providers.mapper import QuarantineReason

__all__ = ["NormalizerStage", "StageConfig"]

_STAGE = "normalizer"
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
    # A new group starts at the beginning of raw, the source of truth; replays are de-duplicated downstream.
    auto_offset_reset: Literal["earliest", "latest"] = "earliest"
    client_id: str = "regpipe-normalizer"


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
        self._producer = create_producer(bootstrap_servers, client_id=config.client_id)
        self._in_flight = asyncio.Lock()
        self._running = False

    def ready(self) -> str | None:
        """None once both Kafka clients are started and the loop runs, else why not."""
        return None if self._running else "kafka clients not started"

    async def run(self, stop: asyncio.Event) -> None:
        """Run batches until `stop` is set; raise `StageError` (batch uncommitted) when Kafka fails."""
        await self._producer.start()
        try:
            await self._consumer.start()
            try:
                listener = _FinishBatchOnRevoke(self._in_flight, self._config.ack_timeout_s)
                self._consumer.subscribe([self._config.input_topic], listener=listener)
                self._running = True
                while not stop.is_set():
                    batch = await self._consumer.getmany(
                        timeout_ms=self._config.poll_timeout_ms, max_records=self._config.batch_max
                    )
                    if batch:
                        async with self._in_flight:
                            await self._handle(batch)
            finally:
                self._running = False
                await self._consumer.stop()
        finally:
            await self._producer.stop()

    async def _handle(self, batch: Mapping[TopicPartition, Sequence[Any]]) -> None:
        outgoing, offsets, tally = self._map(batch)
        await publish_all(self._producer, outgoing, timeout_s=self._config.ack_timeout_s)
        committed = await self._commit(offsets)
        tally.report(sum(tally.consumed[tp] for tp in committed))

    def _map(
        self, batch: Mapping[TopicPartition, Sequence[Any]]
    ) -> tuple[list[Outgoing], dict[TopicPartition, int], _Tally]:
        config = self._config
        outgoing: list[Outgoing] = []
        offsets: dict[TopicPartition, int] = {}
        tally = _Tally()
        for tp, records in batch.items():
            for record in records:
                started = time.perf_counter()
                result = self._processor.process(record)
                if isinstance(result, Mapped):
                    outgoing.extend(Outgoing(config.output_topic, r.key, r.value, r.headers) for r in result.records)
                    tally.mapped(result)
                else:
                    quarantined = result.record
                    # The producer refuses a record with neither key nor value; an empty value keeps the headers.
                    value = quarantined.value if quarantined.value is not None or quarantined.key else b""
                    outgoing.append(Outgoing(config.quarantine_topic, quarantined.key, value, quarantined.headers))
                    tally.quarantined(result.source, result.reason, result.error)
                    _log_quarantine(record, result.source, result.reason, result.message, result.error)
                tally.latencies.append(time.perf_counter() - started)
            offsets[tp] = records[-1].offset + 1
            tally.consumed[tp] = len(records)
        return outgoing, offsets, tally

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

    def quarantined(self, source: str, reason: QuarantineReason, error: str | None) -> None:
        self.quarantines[(source, reason.value)] += 1
        if error is not None:
            self.errors[(source, error)] += 1

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


def _log_quarantine(record: Any, source: str, reason: QuarantineReason, message: str, error: str | None) -> None:
    position = {"raw_topic": record.topic, "raw_partition": record.partition, "raw_offset": record.offset}
    if error is not None:
        # A mapper bug: loud, because every further record of its kind will be quarantined too until it is fixed.
        _log.error("mapper error, record quarantined", source=source, error=error, detail=message, **position)
    else:
        _log.warning("record quarantined", source=source, reason=reason.value, detail=message, **position)


class _FinishBatchOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """Holds a revocation until the in-flight batch is committed, so the next owner starts after it."""

    def __init__(self, in_flight: asyncio.Lock, timeout_s: float) -> None:
        self._in_flight = in_flight
        self._timeout_s = timeout_s

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                async with self._in_flight:
                    pass
        except TimeoutError:
            _log.warning("in-flight batch still running at revocation; its records may be mapped twice")
        _log.info("partitions revoked", partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        _log.info("partitions assigned", partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in assigned))
