"""The reader, a process of its own: reads the public topic read_committed, as a consumer of it would, and notes
when each event became readable.

    python -m benchmarks.end_to_end.reader <bootstrap> <topic> <partitions> <out file>

Writes one line per event, `<provider event id> <arrival, Unix s> <record timestamp, ms>`, flushed after every
fetch (the orchestrator counts lines to know what arrived). Runs until SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import uvloop
from aiokafka import AIOKafkaConsumer, TopicPartition

_ID_HEADER = "ce_providereventid"


async def _run(bootstrap: str, topic: str, partitions: int, out: Path) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    # No group: every partition assigned from the start, so no rebalance can delay the first reads.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id="bench-e2e-reader",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        with out.open("w") as sink:
            sink.write("ready\n")
            sink.flush()
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=200)
                arrival = time.time()
                lines = []
                for records in batch.values():
                    for record in records:
                        ident = next((v for k, v in record.headers if k == _ID_HEADER), b"?").decode()
                        lines.append(f"{ident} {arrival:.6f} {record.timestamp}\n")
                if lines:
                    sink.write("".join(lines))
                    sink.flush()
    finally:
        await consumer.stop()


def main() -> None:
    """Read until SIGTERM."""
    bootstrap, topic, partitions, out = sys.argv[1:5]
    uvloop.run(_run(bootstrap, topic, int(partitions), Path(out)))


if __name__ == "__main__":
    main()
