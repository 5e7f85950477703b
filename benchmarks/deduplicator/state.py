"""The deduplicator's memory and rebuild time: bytes per published id (today's `PartitionState` against the
unbounded `dict[uuid.UUID, SeenEntry]` it replaced) and the time to rebuild one partition's state from its
changelog, as a replica does when it is assigned the partition."""

from __future__ import annotations

import os
import time
import tracemalloc
import uuid
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition

from regpipe.dedup.decision import SeenEntry
from regpipe.dedup.state import PartitionState, encode_entry, load_state

__all__ = ["bytes_per_id", "rebuild_seconds"]

_ENTRY_VERSION = "coldmail/1.0.0"


def bytes_per_id(count: int) -> dict[str, float]:
    """Bytes of Python heap per remembered id, for `count` ids, in both representations."""
    ids = [uuid.uuid4() for _ in range(count)]
    entries = [SeenEntry(os.urandom(16), _ENTRY_VERSION) for _ in range(count)]
    results: dict[str, float] = {}
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        state = PartitionState(window_s=1e9)
        for event_id, entry in zip(ids, entries, strict=True):
            state.remember(event_id, entry)
        results["partition_state"] = round((tracemalloc.get_traced_memory()[0] - before) / count, 1)
        del state
        # The replaced representation: UUID keys (re-created, as decoding the changelog did) and dataclass values.
        before = tracemalloc.get_traced_memory()[0]
        unbounded = {
            uuid.UUID(bytes=event_id.bytes): SeenEntry(bytes.fromhex(entry.fingerprint.hex()), entry.mapper_version)
            for event_id, entry in zip(ids, entries, strict=True)
        }
        results["unbounded_uuid_dict"] = round((tracemalloc.get_traced_memory()[0] - before) / count, 1)
        del unbounded
    finally:
        tracemalloc.stop()
    return results


async def rebuild_seconds(bootstrap: str, topic: str, count: int) -> dict[str, Any]:
    """Write `count` changelog entries to partition 0 of `topic` in transactions, then time `load_state` on it."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, transactional_id=f"bench-state-{uuid.uuid4().hex[:8]}", linger_ms=20
    )
    await producer.start()
    try:
        for start in range(0, count, 5_000):
            async with producer.transaction():
                for _ in range(start, min(count, start + 5_000)):
                    key, value = encode_entry(uuid.uuid4(), SeenEntry(os.urandom(16), _ENTRY_VERSION))
                    await producer.send(topic, key=key, value=value, partition=0)
    finally:
        await producer.stop()
    started = time.perf_counter()
    state = await load_state(bootstrap, TopicPartition(topic, 0), client_id="bench-state")
    seconds = time.perf_counter() - started
    assert len(state) == count, (len(state), count)
    return {"entries": count, "seconds": round(seconds, 2), "entries_per_s": round(count / seconds)}
