"""One input partition of the deduplicator: its state and its own transactional producer.

The transactional id is derived from the input partition (`<prefix>-<topic>-<partition>`), the EOS-v1 way of fencing
zombies: whichever replica opens a partition's producer fences the previous owner's producer and aborts its open
transaction, so a killed or stalled replica can never commit output for a partition it lost.

No record can stop the partition: whatever fails while deciding one record (it does not decode, its output would
not fit the topic, anything else) turns it into a quarantine record with a reason, in the same transaction. Only
Kafka failing stops the stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from regpipe.contract.cloudevents import to_kafka_record
from regpipe.dedup.decision import SeenEntry, Verdict, collision_id, decide
from regpipe.dedup.decoding import decode_event
from regpipe.dedup.errors import DedupStageError, InvalidEventError
from regpipe.dedup.fingerprint import fingerprint
from regpipe.dedup.state import DEFAULT_WINDOW_S, PartitionState, encode_entry, load_state, pack_entry, unpack_entry
from regpipe.kafka.connection import KafkaConnection
from regpipe.kafka.producer import create_producer
from regpipe.observability.tracing import trace_step, tracing_enabled, with_trace
from regpipe.streaming.quarantine import build_quarantine_record, fit_quarantine_record
from regpipe.streaming.record_size import record_size

__all__ = ["STAGE", "BatchOutcome", "Limits", "PartitionWorker", "Reason", "Topics", "transactional_id"]

#: The stage's name in its quarantine records and metric labels.
STAGE = "deduplicator"
# The CloudEvents header of `mapper_version`: an event that fails to decode may still say which mapper made it.
_MAPPER_VERSION_HEADER = "ce_mapperversion"
_TRANSACTION_RETRY_BACKOFF_MS = 10


class Reason:
    """Quarantine reasons of the deduplicator."""

    INVALID_EVENT = "invalid_canonical_event"
    OUTPUT_TOO_LARGE = "output_too_large"
    FAILED = "deduplicator_error"


def transactional_id(prefix: str, tp: TopicPartition) -> str:
    """The transactional id owning input partition `tp`."""
    return f"{prefix}-{tp.topic}-{tp.partition}"


@dataclass
class BatchOutcome:
    """Counts of one committed batch, by verdict, plus records that were quarantined, by reason."""

    verdicts: dict[Verdict, int] = field(default_factory=lambda: dict.fromkeys(Verdict, 0))
    quarantined: dict[str, int] = field(default_factory=dict)

    @property
    def invalid(self) -> int:
        """Records that were not canonical events."""
        return self.quarantined.get(Reason.INVALID_EVENT, 0)


@dataclass(frozen=True, slots=True)
class Topics:
    """Where a partition worker writes."""

    output: str
    changelog: str
    quarantine: str


@dataclass(frozen=True, slots=True)
class Limits:
    """The largest record (as the producer sizes it) each output topic takes, and how long ids are remembered."""

    output_bytes: int
    quarantine_bytes: int
    state_window_s: float = DEFAULT_WINDOW_S


@dataclass(frozen=True, slots=True)
class _Out:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]
    partition: int | None = None


@dataclass(frozen=True, slots=True)
class _Change:
    """The changelog record of a published id, and its in-memory entry."""

    record: _Out
    id_bytes: bytes
    packed: bytes


class PartitionWorker:
    """Processes batches of one input partition, each in one Kafka transaction with its offsets."""

    def __init__(
        self,
        tp: TopicPartition,
        producer: AIOKafkaProducer,
        state: PartitionState,
        topics: Topics,
        group_id: str,
        limits: Limits,
    ) -> None:
        self.tp = tp
        self._producer = producer
        self._state = state
        self._topics = topics
        self._group_id = group_id
        self._limits = limits

    @classmethod
    async def open(
        cls,
        kafka: KafkaConnection | str,
        tp: TopicPartition,
        *,
        topics: Topics,
        group_id: str,
        transactional_id_prefix: str,
        client_id: str,
        limits: Limits,
    ) -> PartitionWorker:
        """Fence the partition's previous owner, rebuild its state from the changelog, return its worker."""
        producer = create_producer(
            kafka,
            client_id=f"{client_id}-{tp.partition}",
            transactional_id=transactional_id(transactional_id_prefix, tp),
            max_request_size=max(limits.output_bytes, limits.quarantine_bytes),
            # Each transaction's first AddPartitionsToTxn is often answered ConcurrentTransactions (the previous
            # transaction's markers are still being written) and, on Kafka 4, its first produce NotEnoughReplicas
            # (transaction verification); both are retried after this backoff, 100 ms by default (docs/stages.md).
            retry_backoff_ms=_TRANSACTION_RETRY_BACKOFF_MS,
        )
        # Starting the producer fences any previous owner's producer of this partition first, so the state
        # read next already includes everything it managed to commit.
        await producer.start()
        try:
            state = await load_state(
                kafka,
                TopicPartition(topics.changelog, tp.partition),
                client_id=f"{client_id}-state-{tp.partition}",
                window_s=limits.state_window_s,
            )
        except BaseException:
            await producer.stop()
            raise
        return cls(tp, producer, state, topics, group_id, limits)

    async def close(self) -> None:
        """Stop the partition's producer (an open transaction is aborted by the broker or the next owner)."""
        await self._producer.stop()

    @property
    def state(self) -> PartitionState:
        """The published ids of this partition."""
        return self._state

    async def process(self, records: Sequence[Any]) -> BatchOutcome:
        """Publish the new events of `records`, remember them, and commit the offsets: all or nothing."""
        outcome = BatchOutcome()
        pending: dict[bytes, bytes] = {}
        outputs: list[_Out] = []
        for record in records:
            self._one(record, outcome, pending, outputs)
        try:
            async with self._producer.transaction():
                producer, send = self._producer, self._producer.send
                for out in outputs:
                    await send(out.topic, key=out.key, value=out.value, headers=out.headers, partition=out.partition)
                await producer.send_offsets_to_transaction({self.tp: records[-1].offset + 1}, self._group_id)
        except KafkaError as exc:
            raise DedupStageError(f"transaction for {self.tp} failed: {type(exc).__name__}: {exc}") from exc
        # Only now is the batch durable: remember its ids (a failed batch left the state untouched).
        remember = self._state.remember_packed
        for event_id, packed in pending.items():
            remember(event_id, packed)
        return outcome

    def _one(self, record: Any, outcome: BatchOutcome, pending: dict[bytes, bytes], outputs: list[_Out]) -> None:
        """Decide one record and append what to send for it; a failure of any kind quarantines the record."""
        try:
            decided = self._decide(record, outcome, pending)
        except InvalidEventError as exc:
            outputs.append(self._quarantine(record, outcome, Reason.INVALID_EVENT, str(exc)))
            return
        except Exception as exc:  # noqa: BLE001  # not swallowed: the record is quarantined with the error's type
            message = f"{type(exc).__name__} while deciding a canonical event"
            outputs.append(self._quarantine(record, outcome, Reason.FAILED, message))
            return
        if decided is None:
            return
        out, change, verdict = decided
        size = record_size(out.key, out.value, out.headers)
        if size > self._limits.output_bytes:
            limit = self._limits.output_bytes
            message = f"the event would be {size} bytes; {self._topics.output} takes at most {limit}"
            outputs.append(self._quarantine(record, outcome, Reason.OUTPUT_TOO_LARGE, message))
            return
        outcome.verdicts[verdict] += 1
        outputs.append(out)
        outputs.append(change.record)
        pending[change.id_bytes] = change.packed

    def _decide(
        self, record: Any, outcome: BatchOutcome, pending: dict[bytes, bytes]
    ) -> tuple[_Out, _Change, Verdict] | None:
        headers = record.headers
        event = decode_event(record.value, headers)
        digest = fingerprint(event)
        id_bytes = event.id.bytes
        # The state learns a batch's ids only after its commit, so this batch's own ids are looked up too.
        packed = pending.get(id_bytes) or self._state.lookup(id_bytes)
        seen = None if packed is None else unpack_entry(packed)
        seen_collision = False
        if seen is not None and seen.fingerprint != digest:
            collision_bytes = collision_id(event.id, digest).bytes
            seen_collision = collision_bytes in pending or self._state.lookup(collision_bytes) is not None
        decision = decide(event, digest, seen, seen_collision=seen_collision)
        if decision.publish_id is None:
            outcome.verdicts[decision.verdict] += 1
            return None
        # The public topic is keyed by the partition key (the domain), whatever the input was keyed by.
        if decision.verdict is Verdict.COLLISION:
            encoded = to_kafka_record(event.model_copy(update={"id": decision.publish_id}))
            out = _Out(self._topics.output, encoded.key, encoded.value, encoded.headers)
        else:
            out = _Out(self._topics.output, event.partition_key.encode(), record.value, list(headers))
        if tracing_enabled():  # the event's trace goes on through this step (off by default: no cost)
            carried = trace_step("deduplicate", headers, {"regpipe.event_id": str(decision.publish_id)})
            out = replace(out, headers=with_trace(out.headers, carried))
        entry = SeenEntry(fingerprint=digest, mapper_version=event.mapper_version)
        change_key, change_value = encode_entry(decision.publish_id, entry)
        changelog = _Out(self._topics.changelog, change_key, change_value, (), self.tp.partition)
        return out, _Change(changelog, change_key, pack_entry(entry)), decision.verdict

    def _quarantine(self, record: Any, outcome: BatchOutcome, reason: str, message: str) -> _Out:
        outcome.quarantined[reason] = outcome.quarantined.get(reason, 0) + 1
        quarantined = fit_quarantine_record(
            build_quarantine_record(
                record,
                stage=STAGE,
                reason=reason,
                message=message,
                mapper_version=_mapper_version(record.headers),
            ),
            max_bytes=self._limits.quarantine_bytes,
        )
        # The producer refuses a record with neither key nor value.
        return _Out(self._topics.quarantine, quarantined.key, quarantined.value or b"", quarantined.headers)


def _mapper_version(headers: Sequence[tuple[str, bytes]]) -> str | None:
    for name, value in headers:
        if name == _MAPPER_VERSION_HEADER:
            return value.decode(errors="replace")[:100] or None
    return None
