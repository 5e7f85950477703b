"""Offset ranges of a topic: resolving a request (offsets or timestamps, one partition or all) into per-partition
`[start, end)` ranges, and reading those ranges without joining any consumer group.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from regpipe.kafka.connection import KafkaConnection, kafka_connection
from regpipe.replay.errors import RangeError

__all__ = ["PartitionRange", "RangeSpec", "TopicReader"]

_UNKNOWN_TOPIC = 3


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


class TopicReader:
    """Resolves and reads ranges with a consumer in no group, so nothing is ever committed.

    `async with TopicReader(bootstrap) as reader:`; one range read at a time.
    """

    def __init__(
        self, kafka: KafkaConnection | str, *, client_id: str = "regpipe-replay", batch_max: int = 500
    ) -> None:
        options = kafka_connection(kafka).client_options()
        self._admin = AIOKafkaAdminClient(**options, client_id=client_id)
        self._consumer = AIOKafkaConsumer(
            **options,
            group_id=None,
            client_id=client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=batch_max,
        )

    async def __aenter__(self) -> Self:
        await self._admin.start()
        try:
            await self._consumer.start()
        except BaseException:
            await self._admin.close()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self._consumer.stop()
        finally:
            await self._admin.close()

    async def partitions(self, topic: str) -> list[int]:
        """The topic's partition ids; `RangeError` when it does not exist."""
        try:
            [description] = await self._admin.describe_topics([topic])
        except KafkaError as exc:
            raise RangeError(f"describing topic {topic!r} failed: {exc}") from exc
        if description["error_code"] == _UNKNOWN_TOPIC or not description["partitions"]:
            raise RangeError(f"topic {topic!r} does not exist")
        return sorted(p["partition"] for p in description["partitions"])

    async def resolve(self, topic: str, spec: RangeSpec) -> list[PartitionRange]:
        """Per-partition ranges for `spec`, clamped to what the topic holds now."""
        partitions = await self.partitions(topic)
        if spec.partition is not None:
            if spec.partition not in partitions:
                raise RangeError(f"topic {topic!r} has no partition {spec.partition}")
            partitions = [spec.partition]
        tps = [TopicPartition(topic, p) for p in partitions]
        beginning = await self._consumer.beginning_offsets(tps)
        end = await self._consumer.end_offsets(tps)
        starts = await self._bound(tps, spec.from_offset, spec.from_time, default=beginning, end=end)
        ends = await self._bound(tps, spec.to_offset, spec.to_time, default=end, end=end)
        return [
            PartitionRange(
                partition=tp.partition,
                start=min(max(starts[tp], beginning[tp]), end[tp]),
                end=min(max(ends[tp], beginning[tp]), end[tp]),
            )
            for tp in tps
        ]

    async def _bound(
        self,
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
        found = await self._consumer.offsets_for_times(dict.fromkeys(tps, int(moment.timestamp() * 1000)))
        # No record at or after the time: the bound is the end of the partition.
        return {tp: found[tp].offset if found.get(tp) is not None else end[tp] for tp in tps}

    async def read(
        self, topic: str, ranges: Sequence[PartitionRange], *, idle_timeout_s: float = 30.0
    ) -> AsyncIterator[list[Any]]:
        """Yield batches of the records in `ranges` (each partition in offset order) until every range is read.

        Raises `RangeError` when nothing arrives for `idle_timeout_s` although ranges are unfinished (e.g. their
        records were deleted by retention meanwhile).
        """
        consumer = self._consumer
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
                # The position, not the last record: compaction and transaction markers leave offsets empty.
                if await consumer.position(tp) >= bounds[tp].end:
                    remaining.discard(tp)
                    consumer.pause(tp)
            if batch:
                last_progress = time.monotonic()
                if out:
                    yield out
            elif time.monotonic() - last_progress > idle_timeout_s:
                unfinished = sorted(tp.partition for tp in remaining)
                raise RangeError(f"nothing read for {idle_timeout_s}s; partitions {unfinished} of {topic} unfinished")
