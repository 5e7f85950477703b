"""A three-node KRaft cluster: replicated topics keep taking acks=all writes while one node is down."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from regpipe.stack.kafka_cluster import KafkaCluster

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[KafkaCluster]:
    folder = Path(tempfile.mkdtemp(prefix="regpipe-cluster-"))
    nodes = KafkaCluster(folder)
    await nodes.astart()
    try:
        yield nodes
    finally:
        await nodes.astop()
        shutil.rmtree(folder, ignore_errors=True)


async def test_writes_survive_the_loss_of_the_partition_leader(cluster: KafkaCluster) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic("replicated", 1, 3)])
        (description,) = await admin.describe_topics(["replicated"])
    finally:
        await admin.close()
    (partition,) = description["partitions"]
    assert sorted(partition["replicas"]) == [1, 2, 3]
    leader = int(partition["leader"])

    producer = AIOKafkaProducer(bootstrap_servers=cluster.bootstrap_servers, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait("replicated", b"before")
        cluster.kill(leader)
        await producer.send_and_wait("replicated", b"during")  # two in-sync replicas remain
        await cluster.restart(leader)
        await producer.send_and_wait("replicated", b"after")
    finally:
        await producer.stop()

    reader = AIOKafkaConsumer(bootstrap_servers=cluster.bootstrap_servers, enable_auto_commit=False)
    await reader.start()
    try:
        tp = TopicPartition("replicated", 0)
        reader.assign([tp])
        await reader.seek_to_beginning(tp)
        values: list[bytes] = []
        while len(values) < 3:
            batch = await reader.getmany(tp, timeout_ms=30_000)
            assert batch, "records missing after the leader came back"
            values += [record.value for record in batch[tp] if record.value is not None]
    finally:
        await reader.stop()
    assert values == [b"before", b"during", b"after"]
