"""The C-client pass-through: a confluent-kafka (librdkafka) consume -> produce -> commit loop with the same
guarantees as the aiokafka one in `benchmarks.normalizer.passthrough` (acks=all, idempotent, a batch's offsets
committed only once every record copied for it was acknowledged), copying records unchanged.

    python -m benchmarks.passthrough_c.copy <bootstrap> <input topic> <output topic> <group> <batch max>
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from confluent_kafka import Consumer, KafkaException, Producer


def _run(bootstrap: str, source: str, target: str, group: str, batch_max: int) -> None:
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "client.id": "bench-passthrough-c",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 10_000,
        }
    )
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "client.id": "bench-passthrough-c",
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
        }
    )
    consumer.subscribe([source])
    try:
        while not stopping:
            batch = consumer.consume(num_messages=batch_max, timeout=0.5)
            copied = [record for record in batch if record.error() is None]
            if not copied:
                continue
            for record in copied:
                producer.produce(target, value=record.value(), key=record.key(), headers=record.headers())
            if producer.flush(30) > 0:
                raise KafkaException("records were not acknowledged within 30 s")
            consumer.commit(asynchronous=False)
    finally:
        consumer.close()


def main() -> None:
    """Run until SIGTERM."""
    bootstrap, source, target, group, batch_max = sys.argv[1:6]
    _run(bootstrap, source, target, group, int(batch_max))


if __name__ == "__main__":
    main()
