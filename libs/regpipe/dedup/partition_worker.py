"""One input partition of the deduplicator: its state and its own transactional producer.

The transactional id is derived from the input partition (`<prefix>-<topic>-<partition>`), the EOS-v1 way of fencing
zombies: whichever replica opens a partition's producer fences the previous owner's producer and aborts its open
transaction, so a killed or stalled replica can never commit output for a partition it lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from regpipe.contract.cloudevents import from_kafka_record, to_kafka_record
from regpipe.contract.errors import RecordDecodeError
from regpipe.dedup.decision import SeenEntry, Verdict, collision_id, decide
from regpipe.dedup.errors import DedupStageError
from regpipe.dedup.fingerprint import fingerprint
from regpipe.dedup.state import PartitionState, encode_entry, load_state
from regpipe.kafka.producer import create_producer
from regpipe.streaming.quarantine import build_quarantine_record

__all__ = ["STAGE", "BatchOutcome", "PartitionWorker", "Topics", "transactional_id"]

#: The stage's name in its quarantine records and metric labels.
STAGE = "deduplicator"
_INVALID_EVENT = "invalid_canonical_event"
# The CloudEvents header of `mapper_version`: an event that fails to decode may still say which mapper made it.
_MAPPER_VERSION_HEADER = "ce_mapperversion"


def transactional_id(prefix: str, tp: TopicPartition) -> str:
    """The transactional id owning input partition `tp`."""
    return f"{prefix}-{tp.topic}-{tp.partition}"


@dataclass
class BatchOutcome:
    """Counts of one committed batch, by verdict, plus records that were not canonical events."""

    verdicts: dict[Verdict, int] = field(default_factory=lambda: dict.fromkeys(Verdict, 0))
    invalid: int = 0


@dataclass(frozen=True, slots=True)
class Topics:
    """Where a partition worker writes."""

    output: str
    changelog: str
    quarantine: str


class PartitionWorker:
    """Processes batches of one input partition, each in one Kafka transaction with its offsets."""

    def __init__(
        self,
        tp: TopicPartition,
        producer: AIOKafkaProducer,
        state: PartitionState,
        topics: Topics,
        group_id: str,
    ) -> None:
        self.tp = tp
        self._producer = producer
        self._state = state
        self._topics = topics
        self._group_id = group_id

    @classmethod
    async def open(
        cls,
        bootstrap_servers: str,
        tp: TopicPartition,
        *,
        topics: Topics,
        group_id: str,
        transactional_id_prefix: str,
        client_id: str,
    ) -> PartitionWorker:
        """Fence the partition's previous owner, rebuild its state from the changelog, return its worker."""
        producer = create_producer(
            bootstrap_servers,
            client_id=f"{client_id}-{tp.partition}",
            transactional_id=transactional_id(transactional_id_prefix, tp),
        )
        # Starting the producer fences any previous owner's producer of this partition first, so the state
        # read next already includes everything it managed to commit.
        await producer.start()
        try:
            state = await load_state(
                bootstrap_servers,
                TopicPartition(topics.changelog, tp.partition),
                client_id=f"{client_id}-state-{tp.partition}",
            )
        except BaseException:
            await producer.stop()
            raise
        return cls(tp, producer, state, topics, group_id)

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
        pending: dict[uuid.UUID, SeenEntry] = {}
        try:
            async with self._producer.transaction():
                for record in records:
                    await self._one(record, outcome, pending)
                await self._producer.send_offsets_to_transaction({self.tp: records[-1].offset + 1}, self._group_id)
        except KafkaError as exc:
            raise DedupStageError(f"transaction for {self.tp} failed: {type(exc).__name__}: {exc}") from exc
        # Only now is the batch durable: remember its ids (a failed batch left the state untouched).
        for event_id, entry in pending.items():
            self._state.remember(event_id, entry)
        return outcome

    async def _one(self, record: Any, outcome: BatchOutcome, pending: dict[uuid.UUID, SeenEntry]) -> None:
        headers = list(record.headers)
        try:
            event = from_kafka_record(record.value or b"", headers)
        except RecordDecodeError as exc:
            # Not a canonical event: a contract break upstream. Keep it, with the reason, rather than stall.
            outcome.invalid += 1
            quarantined = build_quarantine_record(
                record,
                stage=STAGE,
                reason=_INVALID_EVENT,
                message=str(exc),
                mapper_version=_mapper_version(headers),
            )
            await self._producer.send(
                self._topics.quarantine,
                key=quarantined.key,
                value=quarantined.value or b"",  # the producer refuses a record with neither key nor value
                headers=quarantined.headers,
            )
            return
        digest = fingerprint(event)
        # The state learns a batch's ids only after its commit, so this batch's own ids are looked up too.
        seen = pending.get(event.id) or self._state.get(event.id)
        seen_collision = False
        if seen is not None and seen.fingerprint != digest:
            collision_key = collision_id(event.id, digest)
            seen_collision = collision_key in pending or collision_key in self._state
        decision = decide(event, digest, seen, seen_collision=seen_collision)
        outcome.verdicts[decision.verdict] += 1
        if decision.publish_id is None:
            return
        entry = SeenEntry(fingerprint=digest, mapper_version=event.mapper_version)
        if decision.verdict is Verdict.COLLISION:
            out = to_kafka_record(event.model_copy(update={"id": decision.publish_id}))
            key, value, out_headers = out.key, out.value, out.headers
        else:
            key, value, out_headers = record.key, record.value, headers
        await self._producer.send(self._topics.output, key=key, value=value, headers=out_headers)
        if decision.verdict is not Verdict.CORRECTION:
            change_key, change_value = encode_entry(decision.publish_id, entry)
            await self._producer.send(
                self._topics.changelog, key=change_key, value=change_value, partition=self.tp.partition
            )
            pending[decision.publish_id] = entry


def _mapper_version(headers: Sequence[tuple[str, bytes]]) -> str | None:
    for name, value in headers:
        if name == _MAPPER_VERSION_HEADER:
            return value.decode(errors="replace") or None
    return None
