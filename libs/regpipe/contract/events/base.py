"""Base class of every canonical event's `data` model, and the markers used in the JSON Schemas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = ["PII", "EventData", "pii"]

#: JSON Schema marker put on fields that hold personal data (names, e-mail addresses).
PII: dict[str, Any] = {"x-pii": True}


def pii(**kwargs: Any) -> Any:
    """A pydantic `Field` marked as personal data in the generated JSON Schema."""
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra.update(PII)
    return Field(json_schema_extra=extra, **kwargs)


class EventData(BaseModel):
    """Fields every canonical event data model has.

    `provider_fields` keeps, verbatim, every field of the provider payload that the model does not name, so
    nothing the provider sent is lost; secrets are removed from it by the mapper before it gets here.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider_fields: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="Provider payload fields not modelled above, kept verbatim (secrets removed).",
    )
