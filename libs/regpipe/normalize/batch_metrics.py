"""The normalizer's metrics of one batch, counted while it is mapped and reported once it is committed, so the
counters match what was handled rather than what was tried before a crash."""

from __future__ import annotations

from collections import Counter

from aiokafka import TopicPartition

from regpipe.normalize.processor import STAGE, Mapped, Quarantined
from regpipe.observability.metrics import (
    EMPTY_MAPPINGS,
    MAPPED_EVENTS,
    MAPPER_ERRORS,
    OFFSETS_COMMITTED,
    QUARANTINED,
    RECORDS_CONSUMED,
    STAGE_LATENCY,
)

__all__ = ["BatchTally"]


class BatchTally:
    """Counts of one batch: records per partition, events, quarantines, mapper errors, empty mappings, latencies."""

    def __init__(self) -> None:
        self.consumed: dict[TopicPartition, int] = {}
        self.events: Counter[tuple[str, str]] = Counter()
        self.quarantines: Counter[tuple[str, str]] = Counter()
        self.errors: Counter[tuple[str, str]] = Counter()
        self.empty: Counter[str] = Counter()
        self.latencies: list[float] = []

    def mapped(self, result: Mapped) -> None:
        if not result.events:
            self.empty[result.source.value] += 1
        for event in result.events:
            self.events[(result.source.value, event.type.value)] += 1

    def quarantined(self, result: Quarantined) -> None:
        self.quarantines[(result.source, result.reason.value)] += 1
        if result.error is not None:
            self.errors[(result.source, result.error)] += 1

    def report(self, committed: list[TopicPartition]) -> None:
        """Report the batch, of which the records of `committed` partitions were committed."""
        RECORDS_CONSUMED.labels(STAGE).inc(sum(self.consumed.values()))
        OFFSETS_COMMITTED.labels(STAGE).inc(sum(self.consumed[tp] for tp in committed))
        for (source, type_), count in self.events.items():
            MAPPED_EVENTS.labels(STAGE, source, type_).inc(count)
        for (source, reason), count in self.quarantines.items():
            QUARANTINED.labels(source, reason).inc(count)
        for (source, error), count in self.errors.items():
            MAPPER_ERRORS.labels(source, error).inc(count)
        for source, count in self.empty.items():
            EMPTY_MAPPINGS.labels(source).inc(count)
        histogram = STAGE_LATENCY.labels(STAGE)
        for seconds in self.latencies:
            histogram.observe(seconds)
