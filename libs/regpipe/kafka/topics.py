"""The registry of every Kafka topic the pipeline uses: name, partitions, retention and cleanup policy.

This is the only place topic names are spelled; `regpipe-topics ensure` creates what is missing and reports drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

__all__ = ["MAX_RECORD_BYTES", "TOPICS", "Topic", "TopicSpec"]

_DAY_MS = 24 * 3600 * 1000

#: The largest record a topic takes (`max.message.bytes`) and a stage's producer sends (`max_request_size`): the
#: two are set together from here, so a record the producer accepts is never refused by the broker afterwards.
MAX_RECORD_BYTES: Final = 1_048_576


class Topic(StrEnum):
    """Topic names: the public contract of `docs/topics.md`."""

    RAW = "registrar.raw.v1"
    NORMALIZED = "registrar.normalized.v1"
    EVENTS = "registrar.events.v1"
    QUARANTINE = "registrar.quarantine.v1"
    DEDUP_STATE = "registrar.dedup.state.v1"
    DELIVERY_DLQ = "registrar.delivery.dlq.v1"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """How one topic is configured."""

    name: Topic
    partitions: int
    retention_ms: int  # -1 keeps forever
    cleanup_policy: str = "delete"
    extra_config: dict[str, str] = field(default_factory=dict)
    #: The largest record batch the broker takes; producers writing the topic use it as their `max_request_size`.
    max_message_bytes: int = MAX_RECORD_BYTES

    def config(self) -> dict[str, str]:
        """Topic-level configs as the broker names them."""
        return {
            "retention.ms": str(self.retention_ms),
            "cleanup.policy": self.cleanup_policy,
            "max.message.bytes": str(self.max_message_bytes),
            **self.extra_config,
        }


# Raw and public topics keep a long history: raw is the source of truth for replay. Partition counts are the
# ceiling of consumer parallelism per stage; they can grow later, but growing re-maps keys, so start at 6.
TOPICS: Final[dict[Topic, TopicSpec]] = {
    Topic.RAW: TopicSpec(Topic.RAW, partitions=6, retention_ms=365 * _DAY_MS),
    Topic.NORMALIZED: TopicSpec(Topic.NORMALIZED, partitions=6, retention_ms=7 * _DAY_MS),
    Topic.EVENTS: TopicSpec(Topic.EVENTS, partitions=6, retention_ms=365 * _DAY_MS),
    Topic.QUARANTINE: TopicSpec(Topic.QUARANTINE, partitions=3, retention_ms=365 * _DAY_MS),
    # The deduplicator's changelog: one entry per published id, partitioned like its input; compacted, and kept
    # longer than raw so that re-normalizing any raw range never re-publishes an event.
    Topic.DEDUP_STATE: TopicSpec(
        Topic.DEDUP_STATE, partitions=6, retention_ms=400 * _DAY_MS, cleanup_policy="compact,delete"
    ),
    # Delivery retries are scheduled in PostgreSQL (docs/delivery.md); exhausted jobs are published here, keyed by
    # subscription + event id.
    Topic.DELIVERY_DLQ: TopicSpec(Topic.DELIVERY_DLQ, partitions=3, retention_ms=30 * _DAY_MS),
}
