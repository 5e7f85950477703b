"""Configuration of the normalizer service, from environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from regpipe.kafka.topics import Topic

__all__ = ["NormalizerSettings"]


class NormalizerSettings(BaseSettings):
    """Every setting of the normalizer; env var = field name in upper case."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    normalizer_group_id: str = "regpipe-normalizer"
    normalizer_input_topic: str = Topic.RAW.value
    normalizer_output_topic: str = Topic.NORMALIZED.value
    normalizer_quarantine_topic: str = Topic.QUARANTINE.value
    normalizer_batch_max: int = Field(default=500, ge=1, le=10_000)
    normalizer_session_timeout_ms: int = Field(default=10_000, ge=6_000)  # the broker's minimum is 6 s
    # `kid:base64key,...`: the key ring raw values are sealed with (empty: raw values are plain).
    raw_seal_keys: SecretStr = SecretStr("")
    raw_seal_active_key: str | None = None
    health_host: str = "0.0.0.0"  # noqa: S104  # probes reach the pod from outside
    health_port: int = 8081
    log_level: str = "INFO"
