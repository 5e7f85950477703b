"""The baseline: the deduplicator's Kafka work without its deciding work. One transactional producer per input
partition, one transaction per batch and partition holding a copy of each record, one changelog-sized record per
record and the batch's offsets; the partitions of a batch run concurrently, as in the stage.

    python -m benchmarks.deduplicator.passthrough <bootstrap> <input> <output> <changelog> <group> <batch max> <txn>
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from regpipe.kafka.producer import create_producer

#: The size of a changelog entry's value (JSON of a 16-byte fingerprint in hex and a mapper version).
_CHANGELOG_VALUE = b'{"f":"' + b"0" * 32 + b'","m":"coldmail/1.0.0"}'


async def _run(bootstrap: str, source: str, target: str, changelog: str, group: str, batch_max: int, txn: str) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        client_id="bench-txn-passthrough",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=batch_max,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_333,
    )
    producers: dict[TopicPartition, AIOKafkaProducer] = {}
    await consumer.start()

    async def producer_of(tp: TopicPartition) -> AIOKafkaProducer:
        if tp not in producers:
            producer = create_producer(
                bootstrap,
                client_id=f"bench-txn-{tp.partition}",
                transactional_id=f"{txn}-{tp.partition}",
                retry_backoff_ms=10,  # as the stage's partition producers
            )
            await producer.start()
            producers[tp] = producer
        return producers[tp]

    async def one(tp: TopicPartition, records: Sequence[Any]) -> None:
        producer = await producer_of(tp)
        async with producer.transaction():
            for record in records:
                await producer.send(target, key=record.key, value=record.value, headers=list(record.headers))
                await producer.send(changelog, key=os.urandom(16), value=_CHANGELOG_VALUE, partition=tp.partition)
            await producer.send_offsets_to_transaction({tp: records[-1].offset + 1}, group)

    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=500, max_records=batch_max)
            await asyncio.gather(*(one(tp, records) for tp, records in batch.items() if records))
    finally:
        await consumer.stop()
        for producer in producers.values():
            await producer.stop()


def main() -> None:
    """Run until SIGTERM."""
    bootstrap, source, target, changelog, group, batch_max, txn = sys.argv[1:8]
    asyncio.run(_run(bootstrap, source, target, changelog, group, int(batch_max), txn))


if __name__ == "__main__":
    main()
