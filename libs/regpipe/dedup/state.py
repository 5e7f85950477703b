"""The deduplicator's memory of published ids, one map per input partition, backed by a compacted changelog topic.

Every id the stage publishes is also written, in the same Kafka transaction, to `registrar.dedup.state.v1` on the
partition of the same number as the input partition. A replica that is assigned a partition rebuilds that
partition's map by reading its changelog partition (read_committed) up to the end before it processes anything.
"""

from __future__ import annotations

import uuid

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from regpipe.dedup.decision import SeenEntry

__all__ = ["PartitionState", "decode_entry", "encode_entry", "load_state"]


class PartitionState:
    """Published ids of one input partition (and the collision ids derived from them)."""

    def __init__(self) -> None:
        self._seen: dict[uuid.UUID, SeenEntry] = {}

    def __len__(self) -> int:
        return len(self._seen)

    def get(self, event_id: uuid.UUID) -> SeenEntry | None:
        """The entry of `event_id`, if it was published."""
        return self._seen.get(event_id)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._seen

    def remember(self, event_id: uuid.UUID, entry: SeenEntry) -> None:
        """Record a published id (call only once its transaction is part of the batch being committed)."""
        self._seen[event_id] = entry


def encode_entry(event_id: uuid.UUID, entry: SeenEntry) -> tuple[bytes, bytes]:
    """Changelog key and value of an entry."""
    return event_id.bytes, orjson.dumps({"f": entry.fingerprint.hex(), "m": entry.mapper_version})


def decode_entry(key: bytes, value: bytes) -> tuple[uuid.UUID, SeenEntry]:
    """Inverse of `encode_entry`."""
    raw = orjson.loads(value)
    return uuid.UUID(bytes=key), SeenEntry(fingerprint=bytes.fromhex(raw["f"]), mapper_version=str(raw["m"]))


async def load_state(bootstrap_servers: str, changelog: TopicPartition, *, client_id: str) -> PartitionState:
    """Read a changelog partition from its start to its last stable offset into a fresh `PartitionState`."""
    state = PartitionState()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        consumer.assign([changelog])
        end = (await consumer.end_offsets([changelog]))[changelog]
        await consumer.seek_to_beginning(changelog)
        while await consumer.position(changelog) < end:
            batch = await consumer.getmany(changelog, timeout_ms=1000, max_records=10_000)
            for record in batch.get(changelog, []):
                if record.key is not None and record.value is not None:
                    event_id, entry = decode_entry(record.key, record.value)
                    state.remember(event_id, entry)
    finally:
        await consumer.stop()
    return state
