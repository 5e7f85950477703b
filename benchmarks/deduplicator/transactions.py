"""What the retried first requests of a Kafka transaction cost: three concurrent transactions (one producer per
input partition, as the deduplicator has) of 50 output records, 50 changelog records and the offsets, 20 rounds,
with aiokafka's default retry backoff (100 ms) and the deduplicator's (10 ms), on a broker with Kafka 4's
transaction verification on (its default) and off. Counts the NotEnoughReplicas (verification) and
ConcurrentTransactions (previous markers still being written) answers from aiokafka's debug log.

    python -m benchmarks.deduplicator.transactions
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from regpipe.kafka.producer import create_producer
from regpipe.stack.kafka import KafkaServer

__all__ = ["measure"]

_PARTITIONS = 3
_ROUNDS = 20
_RECORDS = 50
_VERIFICATION = "transaction.partition.verification.enable"


class _Answers(logging.Handler):
    """Counts the retried answers: aiokafka warns of each NotEnoughReplicas produce answer, and logs every
    AddPartitionsToTxn response (error code 51 is ConcurrentTransactions) at debug level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.not_enough_replicas = 0
        self.concurrent_transactions = 0

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "NotEnoughReplicasError" in text:
            self.not_enough_replicas += 1
        elif "AddPartitionsToTxnResponse" in text and "error_code=51" in text:
            self.concurrent_transactions += 1


class _Broker(KafkaServer):
    """The project's local broker with transaction verification set as asked."""

    def __init__(self, data_dir: Path, *, verification: bool) -> None:
        self._verification = verification
        super().__init__(data_dir)

    def _write_config(self) -> None:
        super()._write_config()
        properties = self.data_dir / "server.properties"
        properties.write_text(properties.read_text() + f"{_VERIFICATION}={str(self._verification).lower()}\n")


async def _rounds(bootstrap: str, backoff_ms: int, answers: _Answers) -> dict[str, Any]:
    producers: list[AIOKafkaProducer] = []
    for partition in range(_PARTITIONS):
        producer = create_producer(
            bootstrap,
            client_id="bench",
            transactional_id=f"bench-{backoff_ms}-{partition}",
            retry_backoff_ms=backoff_ms,
        )
        await producer.start()
        producers.append(producer)

    async def transaction(producer: AIOKafkaProducer, partition: int, index: int) -> None:
        async with producer.transaction():
            for _ in range(_RECORDS):
                await producer.send("out", value=b"x" * 300, key=os.urandom(8))
                await producer.send("changelog", value=b"y" * 60, key=os.urandom(16), partition=partition)
            await producer.send_offsets_to_transaction({TopicPartition("in", partition): index + 1}, "bench")

    answers.not_enough_replicas = answers.concurrent_transactions = 0
    started = time.perf_counter()
    try:
        for index in range(_ROUNDS):
            await asyncio.gather(*(transaction(p, n, index) for n, p in enumerate(producers)))
    finally:
        for producer in producers:
            await producer.stop()
    return {
        "retry_backoff_ms": backoff_ms,
        "ms_per_round": round((time.perf_counter() - started) / _ROUNDS * 1000, 1),
        "transactions": _ROUNDS * _PARTITIONS,
        "not_enough_replicas": answers.not_enough_replicas,
        "concurrent_transactions": answers.concurrent_transactions,
    }


async def measure() -> dict[str, list[dict[str, Any]]]:
    """Per broker setting, per backoff: ms per round of three concurrent transactions, and the retried answers."""
    answers = _Answers()
    conn = logging.getLogger("aiokafka")
    conn.addHandler(answers)
    conn.setLevel(logging.DEBUG)
    results: dict[str, list[dict[str, Any]]] = {}
    try:
        for verification in (True, False):
            with tempfile.TemporaryDirectory(prefix="regpipe-bench-") as tmp:
                broker = _Broker(Path(tmp) / "kafka", verification=verification)
                await broker.astart()
                try:
                    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
                    await admin.start()
                    try:
                        await admin.create_topics([NewTopic(n, 6, 1) for n in ("in", "out", "changelog")])
                    finally:
                        await admin.close()
                    key = f"verification_{'on' if verification else 'off'}"
                    results[key] = [await _rounds(broker.bootstrap_servers, ms, answers) for ms in (100, 10)]
                finally:
                    await broker.astop()
    finally:
        conn.removeHandler(answers)
    return results


def main() -> None:
    """Print the figures."""
    print(orjson.dumps(asyncio.run(measure()), option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
