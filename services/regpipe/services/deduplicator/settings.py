"""Configuration of the deduplicator service, from environment variables."""

from __future__ import annotations

from pydantic import Field

from regpipe.kafka.topics import Topic
from regpipe.runtime.settings import KafkaSettings, ServiceSettings

__all__ = ["DeduplicatorSettings"]


class DeduplicatorSettings(KafkaSettings, ServiceSettings):
    """Every setting of the deduplicator; env var = field name in upper case."""

    dedup_group_id: str = "regpipe-deduplicator"
    dedup_input_topic: str = Topic.NORMALIZED.value
    dedup_output_topic: str = Topic.EVENTS.value
    dedup_changelog_topic: str = Topic.DEDUP_STATE.value
    dedup_quarantine_topic: str = Topic.QUARANTINE.value
    dedup_transactional_id_prefix: str = "regpipe-deduplicator"
    dedup_batch_max: int = 500
    #: How long a published id is remembered at least (bounds the memory: docs/stages.md).
    dedup_state_window_days: float = Field(default=30.0, gt=0)
    health_port: int = 8082
