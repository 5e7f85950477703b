"""The local Kafka broker is a real one: records go in, come back out, and survive a crash."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import UnknownTopicOrPartitionError

from regpipe.stack.kafka import KafkaServer

pytestmark = pytest.mark.integration


async def _create_topic(bootstrap: str, partitions: int = 1) -> str:
    topic = f"stack-test-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()
    return topic


async def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"k")
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, expected: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    received: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(received) < expected:
                batches = await consumer.getmany(timeout_ms=500)
                received += [record.value for records in batches.values() for record in records]
    finally:
        await consumer.stop()
    return received


async def test_produce_then_consume_round_trip(kafka_bootstrap: str) -> None:
    topic = await _create_topic(kafka_bootstrap)
    await _produce(kafka_bootstrap, topic, [b"one", b"two", b"three"])

    assert await _consume(kafka_bootstrap, topic, 3) == [b"one", b"two", b"three"]


async def test_unknown_topics_are_not_auto_created(kafka_bootstrap: str) -> None:
    topic = f"stack-test-typo-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, request_timeout_ms=2000)
    await producer.start()
    try:
        with pytest.raises(UnknownTopicOrPartitionError):
            await producer.send_and_wait(topic, b"lost")
    finally:
        await producer.stop()

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        topics = await admin.list_topics()
    finally:
        await admin.close()
    assert topic not in topics
    assert "regpipe-stack-ready-probe" not in topics  # the readiness probe cleans up after itself


async def test_records_survive_kill_and_restart_on_the_same_data_dir(tmp_path: Path) -> None:
    # A broker of its own: killing the session's broker would disturb every other test.
    server = KafkaServer(tmp_path / "kafka")
    await server.astart()
    try:
        port = server.port
        topic = await _create_topic(server.bootstrap_servers, partitions=3)
        values = [f"record-{n}".encode() for n in range(20)]
        await _produce(server.bootstrap_servers, topic, values)

        server.kill()
        assert not server.running
        await asyncio.to_thread(server.restart)
        await server.wait_ready()

        assert server.port == port
        assert sorted(await _consume(server.bootstrap_servers, topic, len(values))) == sorted(values)
    finally:
        await server.astop()
