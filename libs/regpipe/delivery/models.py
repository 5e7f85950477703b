"""The typed boundary of delivery's commands and queries (admin API, CLI, a web console)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr, model_validator

__all__ = [
    "AttemptRecord",
    "CreatedSubscription",
    "DeadJob",
    "EndpointHealth",
    "OperatorEvent",
    "RangeRedelivery",
    "RedeliveryReport",
    "RotatedSecret",
    "Subscription",
    "SubscriptionSpec",
]

_MAX_FILTERS = 100


class SubscriptionSpec(BaseModel):
    """What a caller gives to create a subscription; the secret is generated, never chosen."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(min_length=1, max_length=2048, examples=["https://billing.example.com/hooks/registrar"])
    description: str = Field(default="", max_length=500)
    event_types: list[str] = Field(
        default_factory=list,
        max_length=_MAX_FILTERS,
        description="Exact event types and `prefix.*` patterns (e.g. `domain.*`); empty or `*`: every type",
        examples=[["domain.*", "order.status_changed"]],
    )
    sources: list[str] = Field(default_factory=list, max_length=_MAX_FILTERS, description="Empty: every source")
    domain_suffixes: list[str] = Field(
        default_factory=list, max_length=_MAX_FILTERS, description="e.g. `de`, `example.com`; empty: any subject"
    )
    max_concurrency: int = Field(default=4, ge=1, le=256, description="Requests in flight per replica")
    rate_limit_per_s: float | None = Field(default=None, gt=0, le=10_000, description="Requests/s per replica")
    ordered: bool = Field(default=False, description="Send one event at a time per domain, in intake order")
    enabled: bool = True


class EndpointHealth(BaseModel):
    """How the endpoint has been answering."""

    model_config = ConfigDict(frozen=True)

    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    failing_since: datetime | None = None
    consecutive_failures: int = 0
    paused_until: datetime | None = None


class Subscription(BaseModel):
    """A stored subscription (without its secrets)."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    sources: list[str]
    domain_suffixes: list[str]
    enabled: bool
    disabled_reason: str | None
    max_concurrency: int
    rate_limit_per_s: float | None
    ordered: bool
    created_at: datetime
    updated_at: datetime
    health: EndpointHealth


class CreatedSubscription(BaseModel):
    """The new subscription and its signing secret, which is shown this once."""

    model_config = ConfigDict(frozen=True)

    subscription: Subscription
    secret: SecretStr = Field(description="`whsec_...`: store it now, it is never shown again")


class RotatedSecret(BaseModel):
    """The new secret (shown once) and until when the previous ones keep signing."""

    model_config = ConfigDict(frozen=True)

    subscription_id: uuid.UUID
    secret: SecretStr
    previous_valid_until: datetime


class AttemptRecord(BaseModel):
    """One delivery attempt."""

    model_config = ConfigDict(frozen=True)

    id: int
    job_id: int
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    attempted_at: datetime
    outcome: str
    status_code: int | None
    latency_ms: float
    error: str | None
    response_body: str | None
    sent_by: str | None = None


class DeadJob(BaseModel):
    """A delivery that exhausted its schedule (the dead-letter list)."""

    model_config = ConfigDict(frozen=True)

    job_id: int
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    attempts: int
    last_status: int | None
    last_error: str | None
    died_at: datetime
    published_to_topic: bool


class OperatorEvent(BaseModel):
    """Something an operator must hear about (an endpoint disabled automatically)."""

    model_config = ConfigDict(frozen=True)

    id: int
    subscription_id: uuid.UUID
    kind: str
    reason: str
    at: datetime


class RangeRedelivery(BaseModel):
    """A time range of events (their `time`), half-open: since <= time < until."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    since: AwareDatetime
    until: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> RangeRedelivery:
        if self.until <= self.since:
            raise ValueError("`until` must be after `since`")
        return self


class RedeliveryReport(BaseModel):
    """How many jobs a redelivery scheduled."""

    model_config = ConfigDict(frozen=True)

    scheduled: int
