"""Base class of every canonical event's `data` model, the shared parts (user, provider error, domain name type)
and the markers used in the generated JSON Schemas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue

from regpipe.contract.names import normalize_domain

__all__ = [
    "KNOWN_VALUES",
    "PII",
    "DomainName",
    "EventData",
    "ProviderError",
    "User",
    "known_values",
    "pii",
]

#: JSON Schema marker put on fields that hold personal data (names, e-mail addresses).
PII: dict[str, Any] = {"x-pii": True}

#: JSON Schema key listing the values a provider is documented to send in an open (string) status field.
KNOWN_VALUES = "x-known-values"

#: A domain name, normalised on validation to lower-case IDNA (punycode) form without a trailing dot.
DomainName = Annotated[str, AfterValidator(normalize_domain)]


def pii(**kwargs: Any) -> Any:
    """A pydantic `Field` marked as personal data in the generated JSON Schema."""
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra.update(PII)
    return Field(json_schema_extra=extra, **kwargs)


def known_values(values: Sequence[str], description: str, **kwargs: Any) -> Any:
    """A `Field` for an open status value: documented values are listed, new ones are accepted.

    Providers add status values without notice; rejecting an unknown one would quarantine a valid event, so
    these are plain strings and the documented values are only listed (in the description and in the schema).
    """
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra[KNOWN_VALUES] = list(values)
    listed = ", ".join(values)
    if "default_factory" not in kwargs:
        kwargs.setdefault("default", None)
    return Field(
        description=f"{description} Documented values: {listed} (others are passed through).",
        json_schema_extra=extra,
        **kwargs,
    )


class ProviderError(BaseModel):
    """The provider's machine-readable code and human-readable explanation of a failure."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str | None = Field(default=None, description="Machine-readable error code (registry codes preserved).")
    detail: str | None = Field(default=None, description="Human-readable explanation of the failure.")


class User(BaseModel):
    """The provider's end user (customer account) an event is about."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_id: str | None = Field(default=None, description="The provider's id of the user.")
    email: str | None = pii(default=None, description="The user's e-mail address.")


class EventData(BaseModel):
    """Fields every canonical event data model has.

    `provider_fields` keeps, verbatim, every field of the provider payload that the model does not name, so
    nothing the provider sent is lost; secrets are removed from it by the mapper before it gets here.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    message: str | None = Field(default=None, description="The provider's human-readable summary of the event.")
    error: ProviderError | None = Field(default=None, description="Why the operation failed (failure events).")
    provider_fields: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="Provider payload fields not modelled above, kept verbatim (secrets removed).",
    )
