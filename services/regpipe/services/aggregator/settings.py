"""Configuration of the aggregator service, from environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr

from regpipe.kafka.topics import Topic
from regpipe.runtime.settings import KafkaSettings, LeaseSettings, ServiceSettings

__all__ = ["AggregatorSettings"]


class AggregatorSettings(KafkaSettings, LeaseSettings, ServiceSettings):
    """Every setting of the aggregator; env var = field name in upper case. Tokens are never logged."""

    aggregator_input_topic: str = Topic.EVENTS.value
    aggregator_outbox_topic: str = Field(
        default=Topic.NORMALIZED.value, description="Where aggregate events go (the deduplicator drops re-sends)"
    )
    aggregator_group_id: str = "regpipe-aggregator"
    aggregator_batch_max: int = Field(default=500, ge=1, le=10_000, description="Events applied per transaction")
    aggregator_pg_pool_size: int = Field(default=4, ge=2, le=64)
    aggregator_api_tokens: SecretStr = Field(
        default=SecretStr(""), description="Comma-separated bearer tokens of the read API (empty: every call is 401)"
    )
    aggregator_settle_quiet_s: float = Field(default=600.0, gt=0, description="Cold Mail order quiet time")
    aggregator_scan_interval_s: float = Field(default=30.0, gt=0, description="Checkpoint/settlement scan period")
    aggregator_relay_interval_s: float = Field(default=0.5, gt=0, description="Outbox poll period when idle")
    aggregator_lease_name: str = "aggregator-scheduler"
    health_port: int = Field(default=8089, ge=0, le=65535, description="Read API + probes + metrics; 0: off")

    def api_tokens(self) -> list[str]:
        """The configured bearer tokens."""
        return [token.strip() for token in self.aggregator_api_tokens.get_secret_value().split(",") if token.strip()]
