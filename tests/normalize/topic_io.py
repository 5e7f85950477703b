"""Reading and writing the private topics of one test: create them, produce raw records, read a whole topic,
wait until a group has committed up to the end of a topic."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from regpipe.normalize.stage import StageConfig
from regpipe.replay.groups import committed_offsets
from regpipe.replay.ranges import RangeSpec, TopicReader

__all__ = [
    "StageTopics",
    "committed_total",
    "create_stage_topics",
    "end_offsets",
    "produce",
    "read_all",
    "wait_until_committed",
    "wait_until_committed_at_least",
]

RawTuple = tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]


@dataclass(frozen=True, slots=True)
class StageTopics:
    """A private raw, normalized and quarantine topic, and a fresh group id."""

    raw: str
    normalized: str
    quarantine: str
    group_id: str

    def config(self, **overrides: Any) -> StageConfig:
        """A stage config reading and writing these topics."""
        values: dict[str, Any] = {
            "group_id": self.group_id,
            "input_topic": self.raw,
            "output_topic": self.normalized,
            "quarantine_topic": self.quarantine,
            "poll_timeout_ms": 200,
            "ack_timeout_s": 10.0,
            "session_timeout_ms": 6000,
        }
        values.update(overrides)
        return StageConfig(**values)


async def create_stage_topics(bootstrap: str, *, partitions: int = 3) -> StageTopics:
    """Create three topics with unique names."""
    suffix = uuid.uuid4().hex[:10]
    topics = StageTopics(
        raw=f"test.raw.{suffix}",
        normalized=f"test.normalized.{suffix}",
        quarantine=f"test.quarantine.{suffix}",
        group_id=f"test-normalizer-{suffix}",
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, partitions, 1) for name in (topics.raw, topics.normalized, topics.quarantine)]
        )
    finally:
        await admin.close()
    return topics


async def produce(bootstrap: str, topic: str, records: Sequence[RawTuple]) -> None:
    """Produce (key, value, headers) records and wait for every acknowledgement."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        acks = [await producer.send(topic, value=value, key=key, headers=headers) for key, value, headers in records]
        await asyncio.gather(*acks)
    finally:
        await producer.stop()


async def read_all(bootstrap: str, topic: str) -> list[Any]:
    """Every record the topic holds now."""
    async with TopicReader(bootstrap) as reader:
        ranges = await reader.resolve(topic, RangeSpec())
        return [record async for batch in reader.read(topic, ranges) for record in batch]


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """Partition -> end offset, now."""
    async with TopicReader(bootstrap) as reader:
        return {r.partition: r.end for r in await reader.resolve(topic, RangeSpec())}


async def wait_until_committed(bootstrap: str, group_id: str, topic: str, *, timeout_s: float = 60.0) -> dict[int, int]:
    """Wait until `group_id` committed the end offset of every partition of `topic`; return the offsets."""
    ends = await end_offsets(bootstrap, topic)
    async with asyncio.timeout(timeout_s):
        while True:
            committed = await committed_offsets(bootstrap, group_id, topic)
            if all(committed.get(p, 0) >= end for p, end in ends.items()):
                return committed
            await asyncio.sleep(0.3)


async def committed_total(bootstrap: str, group_id: str, topic: str) -> int:
    """How many records of `topic` the group has committed, over all partitions."""
    return sum((await committed_offsets(bootstrap, group_id, topic)).values())


async def wait_until_committed_at_least(
    bootstrap: str, group_id: str, topic: str, count: int, *, timeout_s: float = 60.0
) -> int:
    """Wait until `group_id` committed at least `count` records of `topic`; return how many it has."""
    async with asyncio.timeout(timeout_s):
        while True:
            done = await committed_total(bootstrap, group_id, topic)
            if done >= count:
                return done
            await asyncio.sleep(0.05)
