"""How long a record waits in a consuming stage before its batch starts: the stage shell (polling ahead) against a
loop that polls only between two batches, side by side on the same broker, topic and records.

    python -m benchmarks.end_to_end.shell_wait [--rate 100] [--seconds 20] [--batch-ms 30]

A producer writes `--rate` records a second over the topic's 6 partitions; two consumer groups read them, each
with a strategy that takes `--batch-ms` per batch (a wait, as a deduplicator transaction's round trips are). For
every record: the time from its producer timestamp to the start of the batch that took it. Both variants share
the machine's load at the same moments, so their difference is the loop's, not the load's. Prints the figures;
exits non-zero only when it could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from benchmarks.end_to_end.analysis import percentiles
from regpipe.stack.kafka import KafkaServer
from regpipe.streaming import Batch, ConsumerSpec, StreamProcessor, create_consumer

_TOPIC = "shell-wait"
_PARTITIONS = 6


class _Timing:
    """A strategy that notes when each batch starts, then takes `batch_s` (awaited, like broker round trips)."""

    def __init__(self, batch_s: float) -> None:
        self.batch_s = batch_s
        self.waits_ms: list[float] = []
        self.batches = 0

    async def submit(self, batch: Batch) -> None:
        if not batch:
            return
        now_ms = time.time() * 1000
        self.batches += 1
        self.waits_ms += [now_ms - _timestamp_ms(record) for records in batch.values() for record in records]
        await asyncio.sleep(self.batch_s)

    async def on_assigned(self, partitions: set[TopicPartition]) -> None:
        return None

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        return None

    async def join(self) -> None:
        return None

    async def close(self) -> None:
        return None


def _timestamp_ms(record: Any) -> int:
    # aiokafka's records carry the producer's timestamp; the shell's record protocol does not need it.
    stamp: int = record.timestamp
    return stamp


async def _poll_between_batches(bootstrap: str, strategy: _Timing, stop: asyncio.Event) -> None:
    """The loop before the shell polled ahead: poll, work, poll again."""
    consumer = create_consumer(bootstrap, ConsumerSpec("between", "between", batch_max=500, session_timeout_ms=10_000))
    await consumer.start()
    try:
        consumer.subscribe([_TOPIC])
        while not stop.is_set():
            await strategy.submit(await consumer.getmany(timeout_ms=500, max_records=500))
    finally:
        await consumer.stop()


async def _shell(bootstrap: str, strategy: _Timing, stop: asyncio.Event) -> None:
    consumer = create_consumer(bootstrap, ConsumerSpec("ahead", "ahead", batch_max=500, session_timeout_ms=10_000))
    await StreamProcessor(consumer, strategy, topics=[_TOPIC], batch_max=500, poll_timeout_ms=500).run(stop)


async def _produce(bootstrap: str, rate: float, seconds: float) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    sent = 0
    try:
        begin = time.monotonic()
        while (elapsed := time.monotonic() - begin) < seconds:
            due = int(elapsed * rate) + 1
            for _ in range(due - sent):
                await producer.send(_TOPIC, value=b"x" * 300, partition=sent % _PARTITIONS)
                sent += 1
            await asyncio.sleep(0.002)
        await producer.flush()
    finally:
        await producer.stop()
    return sent


async def _run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="regpipe-bench-shell-") as tmp:
        kafka = KafkaServer(Path(tmp) / "kafka", heap="512m")
        await kafka.astart()
        bootstrap = kafka.bootstrap_servers
        try:
            admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
            await admin.start()
            await admin.create_topics([NewTopic(_TOPIC, _PARTITIONS, 1)])
            await admin.close()
            stop = asyncio.Event()
            between, ahead = _Timing(args.batch_ms / 1000), _Timing(args.batch_ms / 1000)
            loops = [
                asyncio.create_task(_poll_between_batches(bootstrap, between, stop)),
                asyncio.create_task(_shell(bootstrap, ahead, stop)),
            ]
            await asyncio.sleep(8)  # both groups joined
            sent = await _produce(bootstrap, args.rate, args.seconds)
            deadline = time.monotonic() + 60
            while min(len(between.waits_ms), len(ahead.waits_ms)) < sent and time.monotonic() < deadline:  # noqa: ASYNC110  # counters, no event
                await asyncio.sleep(0.2)
            stop.set()
            await asyncio.gather(*loops)
        finally:
            await kafka.astop()
    print(f"{args.rate:g} records/s for {args.seconds:g} s over {_PARTITIONS} partitions, {args.batch_ms:g} ms a batch")
    for name, timing in (("poll between batches", between), ("shell, polling ahead", ahead)):
        waits = percentiles(timing.waits_ms)
        print(
            f"{name:22} records {len(timing.waits_ms)}, batches {timing.batches}, "
            "wait until the batch starts ms p50/p90/p99/max "
            f"{waits['p50']}/{waits['p90']}/{waits['p99']}/{waits['max']}"
        )


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--batch-ms", type=float, default=30)
    try:
        asyncio.run(_run(parser.parse_args()))
    except OSError as failed:
        sys.exit(f"shell wait benchmark could not run: {failed}")


if __name__ == "__main__":
    main()
