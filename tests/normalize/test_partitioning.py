"""Records keep the partitions `send` gives them: the normalizer's murmur2 is Kafka's (the Java client's own test
vectors) and aiokafka's, on keys of every length."""

from __future__ import annotations

import random

import pytest
from aiokafka.partitioner import DefaultPartitioner, murmur2

from regpipe.normalize.publish import kafka_murmur2, partition_for


@pytest.mark.parametrize(
    ("key", "signed"),
    [
        # org.apache.kafka.common.utils.UtilsTest#testMurmur2
        (b"21", -973932308),
        (b"foobar", -790332482),
        (b"a-little-bit-long-string", -985981536),
        (b"a-little-bit-longer-string", -1486304829),
        (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        (b"abc", 479470107),
    ],
)
def test_the_java_clients_vectors(key: bytes, signed: int) -> None:
    assert kafka_murmur2(key) == signed & 0xFFFFFFFF


def test_equals_aiokafkas_murmur2_and_partition_choice() -> None:
    rng = random.Random(5)
    partitions = list(range(6))
    partitioner = DefaultPartitioner()
    for _ in range(20_000):
        key = rng.randbytes(rng.randrange(0, 80))
        assert kafka_murmur2(key) == murmur2(key)
        expected = partitioner(key, partitions, partitions)
        assert partition_for(key, partitions) == expected
