"""The same copy loop on aiokafka, beside the C client's in the same run: a bare consume -> produce -> commit loop
with the normalizer's consumer and producer settings (batch size, acks=all, idempotence, manual commit after every
ack), copying each record once, unchanged.

    python -m benchmarks.passthrough_c.copy_aiokafka <bootstrap> <input topic> <output topic> <group> <batch max>
"""

from __future__ import annotations

import asyncio
import signal
import sys

from aiokafka import AIOKafkaConsumer

from regpipe.kafka.producer import create_producer
from regpipe.normalize.stage import StageConfig


async def _run(bootstrap: str, source: str, target: str, group: str, batch_max: int) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    # The same settings as regpipe.normalize.stage.NormalizerStage.
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        client_id="bench-passthrough",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=batch_max,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_333,
    )
    producer = create_producer(
        bootstrap, client_id="bench-passthrough", max_batch_size=StageConfig().producer_batch_bytes
    )
    await producer.start()
    await consumer.start()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=500, max_records=batch_max)
            if not batch:
                continue
            acks = []
            for records in batch.values():
                for record in records:
                    acks.append(
                        await producer.send(target, value=record.value, key=record.key, headers=list(record.headers))
                    )
            await asyncio.gather(*acks)
            await consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
    finally:
        await consumer.stop()
        await producer.stop()


def main() -> None:
    """Run until SIGTERM."""
    bootstrap, source, target, group, batch_max = sys.argv[1:6]
    asyncio.run(_run(bootstrap, source, target, group, int(batch_max)))


if __name__ == "__main__":
    main()
