"""Test-side Kafka I/O on the real broker: private topics, producing canonical events, reading a topic back."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from regpipe.contract import CanonicalEvent, to_kafka_record


async def create_topics(bootstrap: str, names: Iterable[str], *, partitions: int = 3) -> None:
    """Create fresh topics (unique names per test keep tests independent of each other)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name=name, num_partitions=partitions, replication_factor=1) for name in names]
        )
    finally:
        await admin.close()


def unique(prefix: str) -> str:
    """A topic or group name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def produce_events(bootstrap: str, topic: str, events: Iterable[CanonicalEvent]) -> int:
    """Produce canonical events in CloudEvents binary mode; returns how many were acknowledged."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        futures = []
        for event in events:
            record = to_kafka_record(event)
            futures.append(await producer.send(topic, key=record.key, value=record.value, headers=record.headers))
        await asyncio.gather(*futures)
        return len(futures)
    finally:
        await producer.stop()


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    expect: int | None = None,
    timeout_s: float = 30.0,
    settle_s: float = 1.5,
    isolation_level: str = "read_committed",
) -> list[Any]:
    """Read every record of `topic` from the beginning.

    Returns once `expect` records were read (then waits `settle_s` more, so extra records would be caught), or
    when nothing new arrived for `settle_s` after `timeout_s` passed.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level=isolation_level)
    await consumer.start()
    records: list[Any] = []
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        for _ in range(50):
            if partitions:
                break
            await asyncio.sleep(0.1)
            await consumer._client.force_metadata_update()  # no public way to refresh metadata
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout_s
        last_new = time.monotonic()
        reached_at: float | None = None
        while True:
            batch = await consumer.getmany(timeout_ms=200)
            for tp_records in batch.values():
                records.extend(tp_records)
                last_new = time.monotonic()
            now = time.monotonic()
            if expect is not None and len(records) >= expect and reached_at is None:
                reached_at = now
            if reached_at is not None and now - reached_at >= settle_s:
                break
            if now >= deadline and now - last_new >= settle_s:
                break
    finally:
        await consumer.stop()
    return records


async def committed_offsets(bootstrap: str, group: str, topic: str) -> tuple[dict[int, int], dict[int, int]]:
    """(committed offset, end offset) per partition of `topic` for consumer group `group`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = sorted(consumer.partitions_for_topic(topic) or set())
        tps = [TopicPartition(topic, p) for p in partitions]
        ends = await consumer.end_offsets(tps)
        committed = {tp.partition: (await consumer.committed(tp)) or 0 for tp in tps}
        return committed, {tp.partition: ends[tp] for tp in tps}
    finally:
        await consumer.stop()
