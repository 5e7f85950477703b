"""The baseline of the aggregator benchmark: a FastStream subscriber that does nothing with what it consumes.

Same subscriber settings as the aggregator (batch subscriber, own group, read_committed, manual ack after each
batch, no body decoding by FastStream), so the ratio isolates what applying the events costs. Run as
`python -m benchmarks.aggregator.noop` with KAFKA_BOOTSTRAP_SERVERS, BENCH_TOPIC, BENCH_GROUP and BENCH_BATCH_MAX in
the environment; stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from faststream import AckPolicy, StreamMessage
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage


async def _skip_body(message: StreamMessage[Any]) -> None:
    # As the aggregator's subscriber (`regpipe.aggregate.consumer.skip_body`): FastStream decodes no body.
    del message


async def _run() -> None:
    broker = KafkaBroker(os.environ["KAFKA_BOOTSTRAP_SERVERS"], client_id="bench-noop", logger=None)

    async def handle(message: KafkaMessage) -> None:
        await message.ack()

    broker.subscriber(
        os.environ["BENCH_TOPIC"],
        group_id=os.environ["BENCH_GROUP"],
        batch=True,
        max_records=int(os.environ["BENCH_BATCH_MAX"]),
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        decoder=_skip_body,
    )(handle)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await broker.start()
    try:
        await stop.wait()
    finally:
        await broker.stop()


if __name__ == "__main__":
    asyncio.run(_run())
