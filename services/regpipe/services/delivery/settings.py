"""Configuration of the delivery service, from environment variables."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from regpipe.delivery.schedule import DEFAULT_SCHEDULE_S, RetrySchedule
from regpipe.kafka.topics import Topic
from regpipe.runtime import settings as blocks

__all__ = ["DeliverySettings"]


def _csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class DeliverySettings(blocks.KafkaSettings, blocks.PostgresSettings, blocks.SealSettings, blocks.ServiceSettings):
    """Every setting of the delivery service; env var = field name in upper case.

    `HEALTH_PORT` serves the admin API together with `/healthz`, `/readyz` and `/metrics`. The seal key ring
    (`RAW_SEAL_KEYS`, `RAW_SEAL_ACTIVE_KEY`) seals the subscribers' signing secrets at rest.
    """

    health_port: int = Field(default=8088, ge=0, le=65535, description="Admin API + probes + metrics; 0: off")
    delivery_group_id: str = "regpipe-delivery"
    delivery_input_topic: str = Topic.EVENTS.value
    delivery_dlq_topic: str = Topic.DELIVERY_DLQ.value
    delivery_admin_token: SecretStr | None = Field(default=None, description="Bearer token; unset: API locked")
    delivery_allowed_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="CIDRs endpoints may resolve to despite the SSRF guard (comma-separated)"
    )
    delivery_retry_schedule_s: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_SCHEDULE_S), description="Delay before each attempt, comma-separated"
    )
    delivery_retry_jitter: float = Field(default=0.2, ge=0, lt=1)
    delivery_disable_after_s: float = Field(default=5 * 24 * 3600, gt=0, description="Failing this long: disabled")
    delivery_request_timeout_s: float = Field(default=10.0, gt=0, le=120)
    delivery_lease_s: float = Field(default=60.0, gt=0, description="A claimed job's lease; > the request timeout")
    delivery_poll_interval_s: float = Field(default=0.5, gt=0, le=30)
    delivery_max_in_flight: int = Field(default=512, ge=1, le=10_000)
    delivery_intake_batch_max: int = Field(default=500, ge=1, le=10_000)
    delivery_pg_pool_size: int = Field(default=10, ge=2, le=100)

    @field_validator("delivery_allowed_networks", "delivery_retry_schedule_s", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _csv(value)

    @model_validator(mode="after")
    def _lease_outlives_request(self) -> DeliverySettings:
        if self.delivery_lease_s <= self.delivery_request_timeout_s + 1:
            raise ValueError("DELIVERY_LEASE_S must exceed DELIVERY_REQUEST_TIMEOUT_S (plus a second to record)")
        RetrySchedule.of(self.delivery_retry_schedule_s, self.delivery_retry_jitter)  # refuse a bad schedule now
        return self

    def retry_schedule(self) -> RetrySchedule:
        """The retry schedule these settings describe."""
        return RetrySchedule.of(self.delivery_retry_schedule_s, self.delivery_retry_jitter)
