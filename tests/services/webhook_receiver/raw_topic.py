"""Reading what the receiver wrote to `registrar.raw.v1`, from offsets recorded before the test produced: the topic
is shared by the whole session, so earlier tests' records are never mistaken for this test's."""

from __future__ import annotations

import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from regpipe.kafka.topics import Topic

Offsets = dict[TopicPartition, int]
Records = list[ConsumerRecord[bytes, bytes]]


def _consumer(bootstrap: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, request_timeout_ms=10_000)


async def _partitions(bootstrap: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [description] = await admin.describe_topics([Topic.RAW.value])
    finally:
        await admin.close()
    assert description["partitions"], "registrar.raw.v1 does not exist: call ensure_topics first"
    return [TopicPartition(Topic.RAW.value, p["partition"]) for p in description["partitions"]]


async def end_offsets(bootstrap: str) -> Offsets:
    """Where each partition of the raw topic ends now."""
    consumer = _consumer(bootstrap)
    await consumer.start()
    try:
        ends: Offsets = await consumer.end_offsets(await _partitions(bootstrap))
        return ends
    finally:
        await consumer.stop()


async def read_since(
    bootstrap: str, since: Offsets, *, until: Callable[[Records], bool], timeout_s: float = 30.0
) -> Records:
    """Every record written after `since`, read until `until(records)` holds (or `timeout_s` passed)."""
    consumer = _consumer(bootstrap)
    await consumer.start()
    records: Records = []
    try:
        consumer.assign(list(since))
        for partition, offset in since.items():
            consumer.seek(partition, offset)
        deadline = time.monotonic() + timeout_s
        while not until(records) and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for batch in batches.values():
                records.extend(batch)
        # Whatever was already written is read too, so a test can also tell what should NOT be there.
        ends = await consumer.end_offsets(list(since))
        while await _behind(consumer, ends):
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def _behind(consumer: AIOKafkaConsumer, ends: Offsets) -> bool:
    for partition, end in ends.items():
        if await consumer.position(partition) < end:
            return True
    return False


def header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    """A header's value as text, None when absent."""
    for key, value in record.headers:
        if key == name:
            text: str = value.decode()
            return text
    return None
