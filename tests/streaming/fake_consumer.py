"""An in-memory stand-in for `AIOKafkaConsumer` with the calls the stage shell makes: batches fed by the test,
rebalances triggered by the test, commits recorded on a timeline the test also writes to."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError

from regpipe.streaming.record import ConsumedRecord, RawRecord

__all__ = ["FakeConsumer", "records"]

TOPIC = "in"


def records(partition: int, start: int, count: int) -> list[ConsumedRecord]:
    """`count` records of partition `partition` from offset `start`."""
    return [
        RawRecord(topic=TOPIC, partition=partition, offset=offset, key=None, value=b"x", headers=[])
        for offset in range(start, start + count)
    ]


class FakeConsumer:
    """A group member that owns `partitions` from its first poll until a test rebalances it."""

    def __init__(self, partitions: set[TopicPartition]) -> None:
        self.timeline: list[str] = []
        self.commits: list[dict[TopicPartition, int]] = []
        self.polls = 0
        self.stopped = False
        self._to_assign = set(partitions)
        self._assigned: set[TopicPartition] = set()
        self._listener: Any = None
        self._batches: asyncio.Queue[dict[TopicPartition, Sequence[ConsumedRecord]]] = asyncio.Queue()
        # What a poll could not return within its `max_records`, returned first by the next poll.
        self._carry: dict[TopicPartition, Sequence[ConsumedRecord]] = {}

    def feed(self, *batch: Sequence[ConsumedRecord]) -> None:
        """Queue one poll's worth of records."""
        grouped: dict[TopicPartition, list[ConsumedRecord]] = {}
        for part in batch:
            for record in part:
                grouped.setdefault(TopicPartition(record.topic, record.partition), []).append(record)
        self._batches.put_nowait(dict(grouped))

    async def rebalance(self, *, revoked: set[TopicPartition], assigned: set[TopicPartition]) -> None:
        """What the group coordinator does: revoke (waiting for the listener), then assign."""
        await self._listener.on_partitions_revoked(revoked)
        self._assigned -= revoked
        self.timeline.append(f"revoked {_names(revoked)}")
        self._assigned |= assigned
        await self._listener.on_partitions_assigned(assigned)

    async def start(self) -> None:
        self.timeline.append("started")

    async def stop(self) -> None:
        self.stopped = True
        self.timeline.append("stopped")

    def subscribe(self, topics: list[str], *, listener: Any) -> None:
        assert topics == [TOPIC]
        self._listener = listener

    async def getmany(self, *, timeout_ms: int, max_records: int) -> Mapping[TopicPartition, Sequence[ConsumedRecord]]:
        self.polls += 1
        if self._to_assign:
            assigned, self._to_assign = self._to_assign, set()
            self._assigned |= assigned
            await self._listener.on_partitions_assigned(assigned)
        if self._carry:
            batch, self._carry = self._carry, {}
        else:
            try:
                batch = await asyncio.wait_for(self._batches.get(), timeout_ms / 1000)
            except TimeoutError:
                return {}
        return self._at_most(batch, max_records)

    @property
    def unpolled(self) -> int:
        """Fed batches no poll returned yet (a partly returned one counts)."""
        return self._batches.qsize() + (1 if self._carry else 0)

    @property
    def carried(self) -> int:
        """Records a poll left over because of its `max_records`."""
        return sum(len(part) for part in self._carry.values())

    def _at_most(
        self, batch: dict[TopicPartition, Sequence[ConsumedRecord]], max_records: int
    ) -> dict[TopicPartition, Sequence[ConsumedRecord]]:
        returned: dict[TopicPartition, Sequence[ConsumedRecord]] = {}
        for tp, part in batch.items():
            room = max_records - sum(len(r) for r in returned.values())
            if room > 0:
                returned[tp] = part[:room]
            if len(part) > room:
                self._carry[tp] = part[max(room, 0) :]
        return returned

    def assignment(self) -> set[TopicPartition]:
        return set(self._assigned)

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        if not set(offsets) <= self._assigned:
            raise CommitFailedError("partitions not assigned to this member")
        self.commits.append(dict(offsets))
        self.timeline.append("commit " + " ".join(f"{tp.partition}@{offset}" for tp, offset in sorted(offsets.items())))


def _names(partitions: set[TopicPartition]) -> str:
    return ",".join(str(tp.partition) for tp in sorted(partitions))
