"""The normalizer stage: the stage shell reading `registrar.raw.v1` with the `CommitAfterAcks` strategy, whose
step maps each batch with the pure `Processor` and hands what it yields to the producer (canonical events to
`registrar.normalized.v1`, quarantine records to `registrar.quarantine.v1`).

Guarantee: at-least-once into both output topics. A batch's offsets are committed only once Kafka acknowledged
every record produced for it, so a crash at any point only re-maps (and re-publishes) uncommitted batches, whose
deterministic canonical ids let the deduplicator drop the duplicates. On stop (SIGTERM) the batch in flight is
finished and committed; if Kafka fails meanwhile the stage raises `StageError` and leaves it uncommitted. How the
batches overlap, what that was measured to gain and the designs not taken are in `docs/stages.md`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from typing import Any, Literal

from aiokafka import TopicPartition

from regpipe.kafka.connection import KafkaConnection
from regpipe.kafka.producer import create_producer
from regpipe.kafka.topics import TOPICS, Topic
from regpipe.normalize.batch_metrics import BatchTally
from regpipe.normalize.deadline import DeadlineWatchdog
from regpipe.normalize.errors import StageError
from regpipe.normalize.processor import Mapped, Processor, Quarantined, Result
from regpipe.normalize.publish import Outgoing, send_all
from regpipe.observability.logging import get_logger
from regpipe.observability.tracing import trace_step, tracing_enabled, with_trace
from regpipe.streaming import (
    Batch,
    CommitAfterAcks,
    Consumer,
    ConsumerSpec,
    InFlight,
    OffsetCommitter,
    StreamingError,
    StreamProcessor,
)

__all__ = ["NormalizerStage", "StageConfig"]

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
    #: How long mapping one record may take before it is quarantined as `deadline_exceeded` (a normal record takes
    #: well under a millisecond; the e-mail scan's byte budget keeps hostile mail far below this too). The event
    #: loop is held meanwhile, so it stays well under the session timeout.
    mapping_deadline_s: float = 2.0
    #: The largest record the producer sends (`max_request_size`): the larger of the output topics' limits, which
    #: the `Processor` checks each record against (`regpipe.kafka.topics`).
    max_request_bytes: int = max(TOPICS[Topic.NORMALIZED].max_message_bytes, TOPICS[Topic.QUARANTINE].max_message_bytes)

    def consumer_spec(self) -> ConsumerSpec:
        """How the stage's consumer joins its group: a batch of records all hitting the deadline still keeps it."""
        return ConsumerSpec(
            group_id=self.group_id,
            client_id=self.client_id,
            batch_max=self.batch_max,
            session_timeout_ms=self.session_timeout_ms,
            auto_offset_reset=self.auto_offset_reset,
            max_poll_interval_ms=int(self.batch_max * (self.mapping_deadline_s + 1) * 1000) + 60_000,
        )


class NormalizerStage:
    """One replica of the stage: the shell around the consumer it is given, one producer, the mapping step."""

    def __init__(
        self, consumer: Consumer, kafka: KafkaConnection | str, processor: Processor, config: StageConfig
    ) -> None:
        self._processor = processor
        self._config = config
        self._producer = create_producer(
            kafka,
            client_id=config.client_id,
            max_batch_size=config.producer_batch_bytes,
            max_request_size=config.max_request_bytes,
            # A batch's output is handed over whole, so lingering only held it back (5 ms a batch: docs/stages.md).
            linger_ms=0,
        )
        self._watchdog = DeadlineWatchdog(config.mapping_deadline_s)
        strategy = CommitAfterAcks(
            self._map_and_send,
            OffsetCommitter(consumer, timeout_s=config.ack_timeout_s),
            ack_timeout_s=config.ack_timeout_s,
            settle_timeout_s=config.ack_timeout_s * 2,
        )
        self._shell = StreamProcessor(
            consumer,
            strategy,
            topics=[config.input_topic],
            batch_max=config.batch_max,
            poll_timeout_ms=config.poll_timeout_ms,
        )

    def ready(self) -> str | None:
        """None once both Kafka clients are started and the loop runs, else why not."""
        return self._shell.ready()

    async def run(self, stop: asyncio.Event) -> None:
        """Run batches until `stop` is set; raise `StageError` (batches uncommitted) when Kafka fails."""
        await self._producer.start()
        try:
            await self._shell.run(stop)
        except StreamingError as exc:
            raise StageError(str(exc)) from exc
        finally:
            self._watchdog.close()
            await self._producer.stop()

    def _timed_out(self, record: Any) -> Result:
        return self._processor.quarantine_timed_out(record, self._config.mapping_deadline_s)

    async def _map_and_send(self, batch: Batch) -> InFlight:
        """Map every record (each within the mapping deadline), then hand all output to the producer at once (so
        it fills large produce requests)."""
        tally = BatchTally()
        outgoing: list[Outgoing] = []
        offsets: dict[TopicPartition, int] = {}
        mapped = 0
        traced = tracing_enabled()
        process, watched = self._processor.process, self._watchdog.run
        for tp, records in batch.items():
            for record in records:
                started = time.perf_counter()
                result = watched(process, record, self._timed_out)
                tally.latencies.append(time.perf_counter() - started)
                produced = self._outgoing(record, result, tally)
                if traced:
                    carried = trace_step("normalize", record.headers, {"regpipe.raw_offset": record.offset})
                    produced = [replace(out, headers=with_trace(out.headers, carried)) for out in produced]
                outgoing.extend(produced)
                mapped += 1
                if mapped % _YIELD_EVERY == 0:
                    # Lets the producer, heartbeats and rebalances move along while a long batch is mapped.
                    await asyncio.sleep(0)
            offsets[tp] = records[-1].offset + 1
            tally.consumed[tp] = len(records)
        acks = await send_all(self._producer, outgoing, timeout_s=self._config.ack_timeout_s)
        return InFlight(acks=acks, offsets=offsets, on_committed=tally.report)

    def _outgoing(self, record: Any, result: Mapped | Quarantined, tally: BatchTally) -> list[Outgoing]:
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


def _log_quarantine(record: Any, result: Quarantined) -> None:
    # A quarantined record has no canonical id: its ingest id (and topic position) name it in the log.
    ingest_id = next((value.decode(errors="replace") for key, value in record.headers if key == "ingest-id"), None)
    position = {
        "ingest_id": ingest_id,
        "raw_topic": record.topic,
        "raw_partition": record.partition,
        "raw_offset": record.offset,
    }
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
