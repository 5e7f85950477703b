"""The deduplicator stage: `registrar.normalized.v1` (may hold duplicates) to the public `registrar.events.v1`.

Guarantee: effectively-once onto the public topic for consumers reading with `isolation.level=read_committed`.
Each batch of one input partition is a single Kafka transaction holding the new events, their changelog entries
and the input offsets: a crash at any point either commits all of it or none of it, and the next owner of the
partition resumes from the committed offsets with the state rebuilt from the committed changelog. The same
canonical id is published once; a different payload under an id already published (same mapper version) is kept
under a derived id and counted as a collision; a replay's `correction` events are published on purpose.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from regpipe.dedup.partition_worker import BatchOutcome, PartitionWorker, Topics, transactional_id
from regpipe.dedup.state import load_state
from regpipe.kafka.producer import create_producer
from regpipe.kafka.topics import Topic
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import DEDUP_DECISIONS, DEDUP_INVALID, DEDUP_STATE_SIZE, RECORDS_CONSUMED

__all__ = ["DedupConfig", "DedupStage"]

_STAGE = "deduplicator"
_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class DedupConfig:
    """Topics, group and batching of the stage."""

    group_id: str = "regpipe-deduplicator"
    input_topic: str = Topic.NORMALIZED.value
    output_topic: str = Topic.EVENTS.value
    changelog_topic: str = Topic.DEDUP_STATE.value
    quarantine_topic: str = Topic.QUARANTINE.value
    transactional_id_prefix: str = "regpipe-deduplicator"
    batch_max: int = 500
    poll_timeout_ms: int = 500
    session_timeout_ms: int = 10_000
    client_id: str = "regpipe-deduplicator"


class DedupStage:
    """One replica: a consumer in the group and one `PartitionWorker` per assigned partition."""

    def __init__(self, bootstrap_servers: str, config: DedupConfig) -> None:
        self._bootstrap = bootstrap_servers
        self._config = config
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=config.group_id,
            client_id=config.client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=config.batch_max,
            session_timeout_ms=config.session_timeout_ms,
            heartbeat_interval_ms=max(1000, config.session_timeout_ms // 3),
        )
        self._workers: dict[TopicPartition, PartitionWorker] = {}
        self._in_flight = asyncio.Lock()
        self._running = False

    def ready(self) -> str | None:
        """None once the loop runs, else why not."""
        return None if self._running else "kafka clients not started"

    async def run(self, stop: asyncio.Event) -> None:
        """Process batches until `stop` is set; a failed transaction raises `DedupStageError` (nothing committed)."""
        await self._consumer.start()
        try:
            self._consumer.subscribe([self._config.input_topic], listener=_Rebalance(self))
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
            await self._close_workers(set(self._workers))

    async def _handle(self, batch: Mapping[TopicPartition, Sequence[Any]]) -> None:
        for tp, records in batch.items():
            if not records:
                continue
            if tp not in self._workers:
                if tp not in self._consumer.assignment():
                    continue  # revoked meanwhile: the new owner reads these records again from the committed offset
                # The fetcher can hand out records of a new assignment before the listener opened it.
                await self._open(tp)
            worker = self._workers[tp]
            outcome = await worker.process(records)
            RECORDS_CONSUMED.labels(_STAGE).inc(len(records))
            _report(outcome)
            DEDUP_STATE_SIZE.labels(str(tp.partition)).set(len(worker.state))

    async def open_workers(self, assigned: set[TopicPartition]) -> None:
        """Open a worker (fencing producer + rebuilt state) for each newly assigned partition."""
        async with self._in_flight:
            for tp in sorted(assigned - set(self._workers), key=lambda t: t.partition):
                await self._open(tp)

    async def _open(self, tp: TopicPartition) -> None:
        config = self._config
        producer = create_producer(
            self._bootstrap,
            client_id=f"{config.client_id}-{tp.partition}",
            transactional_id=transactional_id(config.transactional_id_prefix, tp),
        )
        # Starting the producer fences any previous owner's producer of this partition first, so the state
        # read next already includes everything it managed to commit.
        await producer.start()
        state = await load_state(
            self._bootstrap,
            TopicPartition(config.changelog_topic, tp.partition),
            client_id=f"{config.client_id}-state-{tp.partition}",
        )
        self._workers[tp] = PartitionWorker(
            tp,
            producer,
            state,
            Topics(output=config.output_topic, changelog=config.changelog_topic, quarantine=config.quarantine_topic),
            config.group_id,
        )
        _log.info("partition opened", partition=tp.partition, known_ids=len(state))

    async def _close_workers(self, revoked: set[TopicPartition]) -> None:
        for tp in revoked:
            worker = self._workers.pop(tp, None)
            if worker is not None:
                await worker.close()

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        """Let the in-flight batch finish, then close the revoked partitions' producers."""
        async with self._in_flight:
            await self._close_workers(revoked)


def _report(outcome: BatchOutcome) -> None:
    for verdict, count in outcome.verdicts.items():
        if count:
            DEDUP_DECISIONS.labels(verdict.value).inc(count)
    if outcome.invalid:
        DEDUP_INVALID.inc(outcome.invalid)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    def __init__(self, stage: DedupStage) -> None:
        self._stage = stage

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._stage.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._stage.open_workers(assigned)
