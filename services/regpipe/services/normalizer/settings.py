"""Configuration of the normalizer service, from environment variables."""

from __future__ import annotations

from pydantic import Field

from regpipe.kafka.topics import Topic
from regpipe.runtime.settings import KafkaSettings, SealSettings, ServiceSettings

__all__ = ["NormalizerSettings"]


class NormalizerSettings(KafkaSettings, SealSettings, ServiceSettings):
    """Every setting of the normalizer; env var = field name in upper case. The seal keys open sealed raw values."""

    normalizer_group_id: str = "regpipe-normalizer"
    normalizer_input_topic: str = Topic.RAW.value
    normalizer_output_topic: str = Topic.NORMALIZED.value
    normalizer_quarantine_topic: str = Topic.QUARANTINE.value
    normalizer_batch_max: int = Field(default=500, ge=1, le=10_000)
    normalizer_session_timeout_ms: int = Field(default=10_000, ge=6_000)  # the broker's minimum is 6 s
    health_port: int = 8081
