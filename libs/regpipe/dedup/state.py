"""The deduplicator's memory of published ids, one bounded map per input partition, backed by a compacted
changelog topic.

Every id the stage publishes is also written, in the same Kafka transaction, to `registrar.dedup.state.v1` on the
partition of the same number as the input partition. A replica that is assigned a partition rebuilds that
partition's map by reading its changelog partition (read_committed) up to the end before it processes that
partition's records.

The map is bounded by a time window (`DEDUP_STATE_WINDOW_DAYS`): an id published within the window is always
remembered; an older one may be forgotten. It is held as generations, one dict per slice of the window, so that
forgetting a slice is dropping one dict, and each entry is two small `bytes` (the id's 16 bytes; the 16-byte
fingerprint followed by the mapper version), about a third of the memory of an entry of `uuid.UUID` keys and
dataclass values. Measurements: `docs/stages.md`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from regpipe.dedup.decision import SeenEntry
from regpipe.kafka.connection import KafkaConnection, kafka_connection

__all__ = [
    "DEFAULT_WINDOW_S",
    "PartitionState",
    "decode_entry",
    "encode_entry",
    "load_state",
    "pack_entry",
    "unpack_entry",
]

#: How long a published id is remembered at least, by default.
DEFAULT_WINDOW_S = 30 * 24 * 3600.0
#: Slices of the window: an id is forgotten between one window and one window plus one slice after publication.
_GENERATIONS = 8
_FINGERPRINT = 16


def pack_entry(entry: SeenEntry) -> bytes:
    """The in-memory form of an entry: fingerprint then mapper version."""
    return entry.fingerprint + entry.mapper_version.encode()


def unpack_entry(packed: bytes) -> SeenEntry:
    """Inverse of `pack_entry`."""
    return SeenEntry(fingerprint=packed[:_FINGERPRINT], mapper_version=packed[_FINGERPRINT:].decode())


class PartitionState:
    """Published ids of one input partition (and the collision ids derived from them), within a time window."""

    def __init__(self, *, window_s: float = DEFAULT_WINDOW_S, clock: Callable[[], float] = time.time) -> None:
        if window_s <= 0:
            raise ValueError("the state window must be positive")
        self._span = window_s / _GENERATIONS
        self._clock = clock
        # generation number (time // span) -> id bytes -> packed entry; newest generation last.
        self._generations: dict[int, dict[bytes, bytes]] = {}
        self._newest: dict[bytes, bytes] = {}
        self._newest_number = -1

    def __len__(self) -> int:
        return sum(len(generation) for generation in self._generations.values())

    def lookup(self, event_id: bytes) -> bytes | None:
        """The packed entry of `event_id` (16 bytes), if it was published within the window."""
        found = self._newest.get(event_id)
        if found is not None or len(self._generations) == 1:
            return found
        for generation in reversed(self._generations.values()):
            found = generation.get(event_id)
            if found is not None:
                return found
        return None

    def get(self, event_id: uuid.UUID) -> SeenEntry | None:
        """The entry of `event_id`, if it was published within the window."""
        packed = self.lookup(event_id.bytes)
        return None if packed is None else unpack_entry(packed)

    def __contains__(self, event_id: object) -> bool:
        return isinstance(event_id, uuid.UUID) and self.lookup(event_id.bytes) is not None

    def remember(self, event_id: uuid.UUID, entry: SeenEntry) -> None:
        """Record a published id now (call only once its transaction is committed)."""
        self.remember_packed(event_id.bytes, pack_entry(entry))

    def remember_packed(self, event_id: bytes, packed: bytes, *, at_s: float | None = None) -> None:
        """Record a published id at `at_s` (now by default); an entry older than the window is not kept."""
        now = self._clock()
        number = int((now if at_s is None else at_s) // self._span)
        if number == self._newest_number:
            self._newest[event_id] = packed
            return
        if number > self._newest_number:
            self._newest = {}
            self._newest_number = number
            self._generations[number] = self._newest
            self._newest[event_id] = packed
            self.evict()
            return
        if number < self._oldest_kept(now):
            return
        # An entry of the changelog older than the newest one read (rebuild only): keep generations sorted.
        target = self._generations.get(number)
        if target is None:
            target = self._generations[number] = {}
            self._generations = dict(sorted(self._generations.items()))
        target[event_id] = packed

    def evict(self) -> int:
        """Forget the generations that left the window; returns how many ids were forgotten."""
        oldest = self._oldest_kept(self._clock())
        gone = [number for number in self._generations if number < oldest]
        forgotten = 0
        for number in gone:
            forgotten += len(self._generations.pop(number))
        if not self._generations:
            self._newest, self._newest_number = {}, -1
        return forgotten

    def _oldest_kept(self, now: float) -> int:
        return int(now // self._span) - _GENERATIONS


def encode_entry(event_id: uuid.UUID, entry: SeenEntry) -> tuple[bytes, bytes]:
    """Changelog key and value of an entry."""
    return event_id.bytes, orjson.dumps({"f": entry.fingerprint.hex(), "m": entry.mapper_version})


def decode_entry(key: bytes, value: bytes) -> tuple[uuid.UUID, SeenEntry]:
    """Inverse of `encode_entry`."""
    raw = orjson.loads(value)
    return uuid.UUID(bytes=key), SeenEntry(fingerprint=bytes.fromhex(raw["f"]), mapper_version=str(raw["m"]))


def _packed_of_changelog(value: bytes) -> bytes:
    raw = orjson.loads(value)
    return bytes.fromhex(raw["f"]) + str(raw["m"]).encode()


async def load_state(
    kafka: KafkaConnection | str, changelog: TopicPartition, *, client_id: str, window_s: float = DEFAULT_WINDOW_S
) -> PartitionState:
    """Read a changelog partition from its start to its last stable offset into a fresh `PartitionState`.

    Entries older than the window (by their record timestamp, the time of their transaction) are skipped.
    """
    state = PartitionState(window_s=window_s)
    consumer = AIOKafkaConsumer(
        **kafka_connection(kafka).client_options(),
        client_id=client_id,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    try:
        consumer.assign([changelog])
        end = (await consumer.end_offsets([changelog]))[changelog]
        await consumer.seek_to_beginning(changelog)
        while await consumer.position(changelog) < end:
            batch = await consumer.getmany(changelog, timeout_ms=1000, max_records=10_000)
            for record in batch.get(changelog, []):
                if record.key is not None and record.value is not None and len(record.key) == 16:
                    state.remember_packed(record.key, _packed_of_changelog(record.value), at_s=record.timestamp / 1000)
    finally:
        await consumer.stop()
    return state
