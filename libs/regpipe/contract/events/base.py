"""Base class of every canonical event's `data` model, the shared parts (user, provider error, domain name type)
and the markers used in the generated JSON Schemas."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue

from regpipe.contract.names import normalize_domain

__all__ = [
    "KNOWN_VALUES",
    "PII",
    "DomainName",
    "EventData",
    "ProviderError",
    "ProviderFields",
    "User",
    "is_secret_key",
    "known_values",
    "pii",
    "withhold_secrets",
]

#: JSON Schema marker put on fields that hold personal data (names, e-mail addresses).
PII: dict[str, Any] = {"x-pii": True}

#: JSON Schema key listing the values a provider is documented to send in an open (string) status field.
KNOWN_VALUES = "x-known-values"

# Keys compared lower-case with separators removed: `appPassword`, `app_password` and `App-Password` all match.
_SECRET_KEYS = frozenset(
    {
        "authinfo",
        "authcode",
        "eppcode",
        "transfercode",
        "totp",
        "otp",
        "apikey",
        "accesstoken",
        "refreshtoken",
        "token",
        "privatekey",
        "passwd",
        "pwd",
    }
)
_SECRET_SUFFIXES = ("password", "secret", "authinfo", "authcode")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")


# Field names repeat across every payload of a provider: the answer is cached (bounded, for payloads that invent
# names) rather than folded with a regex on every key of every event.
@lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Whether a provider field of this name holds a secret (password, TOTP secret, EPP auth code, token)."""
    folded = _NOT_ALNUM.sub("", key.lower())
    return folded in _SECRET_KEYS or folded.endswith(_SECRET_SUFFIXES)


def withhold_secrets(value: Any) -> tuple[Any, bool]:
    """`value` with every secret-named key removed at any depth, and whether anything was removed.

    The walk is iterative: a payload nested thousands of levels deep must not raise `RecursionError`.
    """
    if not isinstance(value, dict | list):
        return value, False
    removed = False
    root: dict[Any, Any] | list[Any] = {} if isinstance(value, dict) else []
    stack: list[tuple[dict[Any, Any] | list[Any], dict[Any, Any] | list[Any]]] = [(value, root)]
    while stack:
        source, target = stack.pop()
        if isinstance(source, dict) and isinstance(target, dict):
            for key, item in source.items():
                if isinstance(key, str) and is_secret_key(key):
                    removed = True
                    continue
                target[key] = _copy_into(item, stack)
        elif isinstance(source, list) and isinstance(target, list):
            target.extend(_copy_into(item, stack) for item in source)
    return root, removed


def _copy_into(item: Any, stack: list[tuple[Any, Any]]) -> Any:
    # A container is copied empty now and filled when the walk pops it; a scalar is shared.
    if isinstance(item, dict | list):
        copy: dict[Any, Any] | list[Any] = {} if isinstance(item, dict) else []
        stack.append((item, copy))
        return copy
    return item


def _holds_secret_key(value: dict[str, JsonValue]) -> bool:
    """Whether a secret-named key is anywhere in `value` (iterative, a level at a time, nothing copied)."""
    level: list[Any] = [value]
    while level:
        below: list[Any] = []
        for container in level:
            if isinstance(container, dict):
                if any(isinstance(key, str) and is_secret_key(key) for key in container):
                    return True
                below.extend([item for item in container.values() if isinstance(item, dict | list)])
            else:
                below.extend([item for item in container if isinstance(item, dict | list)])
        level = below
    return False


def _without_secrets(value: dict[str, JsonValue]) -> dict[str, JsonValue]:
    # A backstop: mappers withhold secrets themselves (and set the *_withheld markers), but a field a provider
    # adds tomorrow must not reach the public topic through a mapper that does not know it yet. Validation has
    # just built `value` afresh, so when it holds no secret it is kept as it is rather than copied.
    if not _holds_secret_key(value):
        return value
    cleaned, _ = withhold_secrets(value)
    return cleaned  # type: ignore[no-any-return]


#: Verbatim provider fields, with secret-named keys removed at any depth on validation.
ProviderFields = Annotated[dict[str, JsonValue], AfterValidator(_without_secrets)]

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
    provider_fields: ProviderFields = Field(
        default_factory=dict,
        description="Provider payload fields not modelled above, kept verbatim (secrets removed).",
    )
