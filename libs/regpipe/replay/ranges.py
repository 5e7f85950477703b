"""Offset ranges of a topic: resolving a request (offsets or timestamps, one partition or all) into per-partition
`[start, end)` ranges, and reading those ranges without joining any consumer group.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from regpipe.replay.errors import RangeError

__all__ = ["PartitionRange", "RangeSpec", "read_ranges", "resolve_ranges", "topic_reader"]


@dataclass(frozen=True, slots=True)
class RangeSpec:
    """What to read: offsets are `[from_offset, to_offset)`, times `[from_time, to_time)`; unset means open.

    Offsets and times may be mixed (e.g. from an offset to a time); an offset wins over a time on the same side.
    """

    partition: int | None = None
    from_offset: int | None = None
    to_offset: int | None = None
    from_time: datetime | None = None
    to_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class PartitionRange:
    """The offsets `[start, end)` of one partition."""

    partition: int
    start: int
    end: int

    @property
    def size(self) -> int:
        """How many offsets the range spans (records, unless compaction or transaction markers left gaps)."""
        return max(0, self.end - self.start)


def topic_reader(bootstrap_servers: str, *, client_id: str = "regpipe-replay", batch_max: int = 500) -> Any:
    """A consumer in no group (nothing is committed) for `resolve_ranges` and `read_ranges`; start it first."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=batch_max,
    )


async def resolve_ranges(consumer: Any, topic: str, spec: RangeSpec) -> list[PartitionRange]:
    """Per-partition ranges for `spec`, clamped to what the topic holds now."""
    partitions = consumer.partitions_for_topic(topic)
    if partitions is None:
        await consumer.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        raise RangeError(f"topic {topic!r} does not exist")
    if spec.partition is not None:
        if spec.partition not in partitions:
            raise RangeError(f"topic {topic!r} has no partition {spec.partition}")
        partitions = {spec.partition}
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    beginning = await consumer.beginning_offsets(tps)
    end = await consumer.end_offsets(tps)
    starts = await _bound(consumer, tps, spec.from_offset, spec.from_time, default=beginning, end=end)
    ends = await _bound(consumer, tps, spec.to_offset, spec.to_time, default=end, end=end)
    return [
        PartitionRange(
            partition=tp.partition,
            start=min(max(starts[tp], beginning[tp]), end[tp]),
            end=min(max(ends[tp], beginning[tp]), end[tp]),
        )
        for tp in tps
    ]


async def _bound(
    consumer: Any,
    tps: Sequence[TopicPartition],
    offset: int | None,
    moment: datetime | None,
    *,
    default: dict[TopicPartition, int],
    end: dict[TopicPartition, int],
) -> dict[TopicPartition, int]:
    if offset is not None:
        if offset < 0:
            raise RangeError(f"offsets are not negative, got {offset}")
        return dict.fromkeys(tps, offset)
    if moment is None:
        return dict(default)
    if moment.tzinfo is None:
        raise RangeError("times need a zone (e.g. 2026-05-01T00:00:00Z)")
    found = await consumer.offsets_for_times(dict.fromkeys(tps, int(moment.timestamp() * 1000)))
    # No record at or after the time: the bound is the end of the partition.
    return {tp: found[tp].offset if found.get(tp) is not None else end[tp] for tp in tps}


async def read_ranges(
    consumer: Any, topic: str, ranges: Sequence[PartitionRange], *, idle_timeout_s: float = 30.0
) -> AsyncIterator[list[Any]]:
    """Yield batches of the records in `ranges` (each partition in offset order) until every range is read.

    Raises `RangeError` when no record arrives for `idle_timeout_s` although ranges are unfinished (e.g. their
    records were deleted by retention meanwhile).
    """
    bounds = {TopicPartition(topic, r.partition): r for r in ranges if r.size > 0}
    if not bounds:
        return
    consumer.assign(list(bounds))
    for tp, r in bounds.items():
        consumer.seek(tp, r.start)
    remaining = set(bounds)
    last_progress = time.monotonic()
    while remaining:
        batch = await consumer.getmany(*remaining, timeout_ms=500)
        out: list[Any] = []
        for tp, records in batch.items():
            end = bounds[tp].end
            out.extend(record for record in records if record.offset < end)
        for tp in list(remaining):
            # The position, not the last record: compaction and transaction markers leave offsets without records.
            if await consumer.position(tp) >= bounds[tp].end:
                remaining.discard(tp)
                consumer.pause(tp)
        if out or batch:
            last_progress = time.monotonic()
            if out:
                yield out
        elif time.monotonic() - last_progress > idle_timeout_s:
            unfinished = sorted(tp.partition for tp in remaining)
            raise RangeError(
                f"no records for {idle_timeout_s}s while partitions {unfinished} of {topic} are unfinished"
            )
