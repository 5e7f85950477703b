"""The baseline: a bare aiokafka consume -> produce -> commit loop with the normalizer's consumer and producer
settings (batch size, acks=all, idempotence, manual commit after every ack) that writes, for each raw record it
reads, exactly the records the normalizer writes for it (the same count, keys, value sizes and headers, to a
normalized and a quarantine topic), so the two sides do the same Kafka work and differ only by the mapping.

    python -m benchmarks.normalizer.passthrough <bootstrap> <input> <normalized> <quarantine> <group> <batch max>
        <outputs file>

The outputs file (written by `benchmarks.normalizer.records.write_outputs`) maps each raw key to its outputs;
it is read before the consumer joins, so the measured interval (first commit to last) leaves it out.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from benchmarks.normalizer.records import read_outputs
from regpipe.kafka.producer import create_producer
from regpipe.normalize.stage import StageConfig


async def _run(
    bootstrap: str, source: str, normalized: str, quarantine: str, group: str, batch_max: int, outputs_file: Path
) -> None:
    outputs = read_outputs(outputs_file)
    topics = {"normalized": normalized, "quarantine": quarantine}
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    config = StageConfig()
    # The same settings as regpipe.normalize.stage.NormalizerStage.
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        client_id="bench-passthrough",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=batch_max,
        session_timeout_ms=config.session_timeout_ms,
        heartbeat_interval_ms=max(1000, config.session_timeout_ms // 3),
    )
    producer = create_producer(
        bootstrap,
        client_id="bench-passthrough",
        max_batch_size=config.producer_batch_bytes,
        max_request_size=config.max_request_bytes,
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
                    for kind, key, value, headers in outputs[record.key]:
                        acks.append(await producer.send(topics[kind], value=value, key=key, headers=headers))
            await asyncio.gather(*acks)
            await consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
    finally:
        await consumer.stop()
        await producer.stop()


def main() -> None:
    """Run until SIGTERM."""
    bootstrap, source, normalized, quarantine, group, batch_max, outputs_file = sys.argv[1:8]
    asyncio.run(_run(bootstrap, source, normalized, quarantine, group, int(batch_max), Path(outputs_file)))


if __name__ == "__main__":
    main()
