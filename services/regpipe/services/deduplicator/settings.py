"""Configuration of the deduplicator service, from environment variables."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from regpipe.kafka.topics import Topic


class DeduplicatorSettings(BaseSettings):
    """Every setting of the deduplicator; env var = field name in upper case."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    dedup_group_id: str = "regpipe-deduplicator"
    dedup_input_topic: str = Topic.NORMALIZED.value
    dedup_output_topic: str = Topic.EVENTS.value
    dedup_changelog_topic: str = Topic.DEDUP_STATE.value
    dedup_quarantine_topic: str = Topic.QUARANTINE.value
    dedup_transactional_id_prefix: str = "regpipe-deduplicator"
    dedup_batch_max: int = 500
    health_host: str = "0.0.0.0"  # noqa: S104  # probes reach the pod from outside
    health_port: int = 8082
    log_level: str = "INFO"
