"""The canonical event: a CloudEvents 1.0 envelope whose `data` is the typed model of its event type."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    field_validator,
    model_validator,
)

from regpipe.contract.events import DATA_MODELS
from regpipe.contract.events.base import EventData
from regpipe.contract.taxonomy import EventType, Outcome, Source, Transport

__all__ = ["CanonicalEvent", "Lineage"]


class Lineage(BaseModel):
    """Where the raw record this event was mapped from sits on Kafka."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)


class CanonicalEvent(BaseModel):
    """One canonical event.

    Attribute names map to CloudEvents attributes by dropping underscores (`provider_event_id` is the
    `providereventid` extension); see `regpipe.contract.cloudevents`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID = Field(description="Deterministic: the same provider event always gets the same id.")
    source: Source
    type: EventType
    subject: str | None = Field(default=None, description="The domain name (IDNA, lower case) where there is one.")
    time: AwareDatetime = Field(description="When it happened at the provider (UTC).")
    datacontenttype: Literal["application/json"] = "application/json"
    partition_key: str = Field(min_length=1)
    outcome: Outcome
    provider_event_id: str | None = None
    provider_event_type: str
    transport: Transport
    lineage: Lineage | None = None
    mapper_version: str = Field(min_length=1)
    correction: bool = Field(default=False, description="True when a replay re-publishes on purpose.")
    data: SerializeAsAny[EventData]

    @field_validator("time")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @model_validator(mode="before")
    @classmethod
    def _typed_data(cls, values: Any) -> Any:
        # `data` arrives as a dict when parsed from the wire: validate it with the model of its type.
        if isinstance(values, dict):
            raw_type = values.get("type")
            data = values.get("data")
            if raw_type is not None and not isinstance(data, EventData):
                model = DATA_MODELS.get(EventType(raw_type))
                if model is None:
                    raise ValueError(f"no data model registered for event type {raw_type!r}")
                values = {**values, "data": model.model_validate(data if data is not None else {})}
        return values

    @model_validator(mode="after")
    def _data_matches_type(self) -> CanonicalEvent:
        expected = DATA_MODELS.get(self.type)
        if expected is None or type(self.data) is not expected:
            raise ValueError(f"data of a {self.type.value} event must be {getattr(expected, '__name__', None)}")
        return self
