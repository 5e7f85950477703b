"""The deduplicator stage: the stage shell reading `registrar.normalized.v1` (may hold duplicates) with a
strategy that keeps one `PartitionWorker` per assigned partition, publishing to the public `registrar.events.v1`.

Guarantee: effectively-once onto the public topic for consumers reading with `isolation.level=read_committed`.
Each batch of one input partition is a single Kafka transaction holding the new events, their changelog entries
and the input offsets: a crash at any point either commits all of it or none of it, and the next owner of the
partition resumes from the committed offsets with the state rebuilt from the committed changelog. The same
canonical id is published once; a different payload under an id already published (same mapper version) is kept
under a derived id and counted as a collision; a replay's `correction` events are published on purpose. Why
transactions here and not in the normalizer: `docs/stages.md`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import TopicPartition

from regpipe.dedup.partition_worker import STAGE, BatchOutcome, Limits, PartitionWorker, Topics
from regpipe.dedup.state import DEFAULT_WINDOW_S
from regpipe.kafka.connection import KafkaConnection
from regpipe.kafka.topics import TOPICS, Topic
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import DEDUP_DECISIONS, DEDUP_INVALID, DEDUP_STATE_SIZE, RECORDS_CONSUMED
from regpipe.streaming import Batch, ConsumedRecord, Consumer, ConsumerSpec, StreamProcessor

__all__ = ["DedupConfig", "DedupStage"]

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
    #: The largest record the public and the quarantine topics take (the registry sets topic and producer limits).
    max_output_bytes: int = TOPICS[Topic.EVENTS].max_message_bytes
    max_quarantine_bytes: int = TOPICS[Topic.QUARANTINE].max_message_bytes
    #: How long a published id is remembered at least (`docs/stages.md`).
    state_window_s: float = DEFAULT_WINDOW_S

    def limits(self) -> Limits:
        """The size limits and state window of the partition workers."""
        return Limits(self.max_output_bytes, self.max_quarantine_bytes, self.state_window_s)

    def consumer_spec(self) -> ConsumerSpec:
        """How the stage's consumer joins its group: it reads only committed transactions of the normalizer."""
        return ConsumerSpec(
            group_id=self.group_id,
            client_id=self.client_id,
            batch_max=self.batch_max,
            session_timeout_ms=self.session_timeout_ms,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )


class DedupStage:
    """One replica: the shell around the consumer it is given, one `PartitionWorker` per assigned partition."""

    def __init__(self, consumer: Consumer, kafka: KafkaConnection | str, config: DedupConfig) -> None:
        self._shell = StreamProcessor(
            consumer,
            _TransactionPerPartition(kafka, config),
            topics=[config.input_topic],
            batch_max=config.batch_max,
            poll_timeout_ms=config.poll_timeout_ms,
        )

    def ready(self) -> str | None:
        """None once the loop runs, else why not."""
        return self._shell.ready()

    async def run(self, stop: asyncio.Event) -> None:
        """Process batches until `stop` is set; a failed transaction raises `DedupStageError` (nothing committed)."""
        await self._shell.run(stop)


class _TransactionPerPartition:
    """`Strategy`: each partition's part of a batch is one transaction of that partition's worker; the partitions
    of one batch are processed concurrently (each has its own producer), and a partition's state is rebuilt in a
    task started by the rebalance listener, not inside it."""

    def __init__(self, kafka: KafkaConnection | str, config: DedupConfig) -> None:
        self._kafka = kafka
        self._config = config
        self._topics = Topics(
            output=config.output_topic, changelog=config.changelog_topic, quarantine=config.quarantine_topic
        )
        self._workers: dict[TopicPartition, asyncio.Task[PartitionWorker]] = {}

    async def submit(self, batch: Batch) -> None:
        results = await asyncio.gather(
            *(self._process(tp, records) for tp, records in batch.items()), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _process(self, tp: TopicPartition, records: Sequence[ConsumedRecord]) -> None:
        # The fetcher can hand out records of a new assignment before the listener opened it.
        worker = await (self._workers.get(tp) or self._open(tp))
        outcome = await worker.process(records)
        RECORDS_CONSUMED.labels(STAGE).inc(len(records))
        _report(outcome)
        DEDUP_STATE_SIZE.labels(str(tp.partition)).set(len(worker.state))

    async def on_assigned(self, partitions: set[TopicPartition]) -> None:
        """Start opening (fencing producer + rebuilt state) each newly assigned partition; do not wait for it."""
        for tp in sorted(partitions - set(self._workers), key=lambda t: t.partition):
            self._open(tp)

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        """Close the revoked partitions' producers (the batch before was committed in its own transaction)."""
        await self._close(partitions)

    async def join(self) -> None:
        """Nothing in flight: every batch is committed within `submit`."""

    async def close(self) -> None:
        await self._close(set(self._workers))

    def _open(self, tp: TopicPartition) -> asyncio.Task[PartitionWorker]:
        task = asyncio.create_task(self._open_worker(tp), name=f"dedup-open-{tp.partition}")
        self._workers[tp] = task
        return task

    async def _open_worker(self, tp: TopicPartition) -> PartitionWorker:
        config = self._config
        started = time.perf_counter()
        worker = await PartitionWorker.open(
            self._kafka,
            tp,
            topics=self._topics,
            group_id=config.group_id,
            transactional_id_prefix=config.transactional_id_prefix,
            client_id=config.client_id,
            limits=config.limits(),
        )
        _log.info(
            "partition opened",
            partition=tp.partition,
            known_ids=len(worker.state),
            seconds=round(time.perf_counter() - started, 3),
        )
        return worker

    async def _close(self, partitions: set[TopicPartition]) -> None:
        for tp in partitions:
            task = self._workers.pop(tp, None)
            if task is None:
                continue
            if not task.done():
                task.cancel()
            try:
                worker = await task
            except asyncio.CancelledError:
                continue
            except Exception as exc:  # noqa: BLE001  # the partition is gone; its failed opening no longer matters
                _log.warning("a revoked partition had failed to open", partition=tp.partition, error=type(exc).__name__)
                continue
            await worker.close()


def _report(outcome: BatchOutcome) -> None:
    for verdict, count in outcome.verdicts.items():
        if count:
            DEDUP_DECISIONS.labels(verdict.value).inc(count)
    quarantined = sum(outcome.quarantined.values())
    if quarantined:
        DEDUP_INVALID.inc(quarantined)
