"""CPU per record of the deduplicator's deciding work, step by step, without Kafka: decode, fingerprint, look up,
changelog entry and size check, then the whole of `PartitionWorker`'s per-record step. Process time, so that other
work on a shared machine does not count.

    python -m benchmarks.deduplicator.decide [--raw-records N]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from aiokafka import TopicPartition

from benchmarks.deduplicator.records import normalized_records
from regpipe.dedup.decision import SeenEntry
from regpipe.dedup.decoding import decode_event
from regpipe.dedup.fingerprint import fingerprint
from regpipe.dedup.partition_worker import BatchOutcome, Limits, PartitionWorker, Topics
from regpipe.dedup.state import PartitionState, encode_entry
from regpipe.streaming.record import RawRecord
from regpipe.streaming.record_size import record_size

__all__ = ["measure"]


def _per_record_us(step: Callable[[Any], object], items: list[Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for item in items:
            step(item)
        best = min(best, time.process_time() - started)
    return round(best / len(items) * 1e6, 2)


def measure(raw_count: int) -> dict[str, float]:
    """Microseconds per record of each step (best of three passes over the same records)."""
    records = [
        RawRecord("bench.normalized", 0, offset, r.key, r.value, r.headers)
        for offset, r in enumerate(normalized_records(raw_count, seed=7, duplicate_every=5))
    ]
    events = [decode_event(r.value, r.headers) for r in records]
    state = PartitionState()
    entry = SeenEntry(bytes(16), "coldmail/1.0.0")

    def whole(record: RawRecord) -> None:
        worker._one(record, BatchOutcome(), {}, [])  # the per-record step, as `process` runs it

    topics = Topics("events", "state", "quarantine")
    worker = PartitionWorker(
        TopicPartition("bench.normalized", 0),
        None,  # no Kafka: the per-record step never sends
        state,
        topics,
        "g",
        Limits(1 << 20, 1 << 20),
    )
    return {
        "records": len(records),
        "decode": _per_record_us(lambda r: decode_event(r.value, r.headers), records),
        "fingerprint": _per_record_us(fingerprint, events),
        "lookup": _per_record_us(lambda e: state.lookup(e.id.bytes), events),
        "changelog_entry": _per_record_us(lambda e: encode_entry(e.id, entry), events),
        "size_check": _per_record_us(lambda r: record_size(r.key, r.value, r.headers), records),
        "whole_step": _per_record_us(whole, records),
    }


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw-records", type=int, default=2_000)
    args = parser.parse_args()
    print(measure(args.raw_records))


if __name__ == "__main__":
    main()
