"""Parsing steps every JSON provider mapper needs, each turning a failure into the right `MappingError`.

Error texts never include input values: payloads can hold secrets (EPP auth codes, mailbox passwords), and these
texts reach logs and the quarantine topic.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

import orjson
from pydantic import BaseModel, JsonValue, ValidationError

from regpipe.contract.errors import InvalidDomainNameError
from regpipe.contract.names import normalize_domain
from regpipe.providers.mapper import MappingError, QuarantineReason

__all__ = ["decode_json", "describe_validation_error", "parse_payload", "payload_domain", "to_utc"]

_Model = TypeVar("_Model", bound=BaseModel)


def decode_json(body: bytes) -> JsonValue:
    """The JSON document of `body`; `INVALID_JSON` otherwise."""
    try:
        document: JsonValue = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MappingError(QuarantineReason.INVALID_JSON, f"body is not JSON: {exc}") from exc
    return document


def describe_validation_error(exc: ValidationError) -> str:
    """Where and why validation failed, without the offending values."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '$'}: {error['msg']}"
        for error in exc.errors(include_url=False, include_input=False, include_context=False)
    )


def parse_payload(model: type[_Model], value: JsonValue, what: str) -> _Model:
    """Validate a JSON object as `model`; `SCHEMA_VIOLATION` (naming `what`) otherwise."""
    if not isinstance(value, dict):
        raise MappingError(QuarantineReason.SCHEMA_VIOLATION, f"{what}: expected an object")
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise MappingError(QuarantineReason.SCHEMA_VIOLATION, f"{what}: {describe_validation_error(exc)}") from exc


def to_utc(value: datetime | None) -> datetime | None:
    """`value` in UTC (a zone-less time is taken as UTC); `SCHEMA_VIOLATION` when it has no UTC equivalent."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:
        # e.g. 0001-01-01T00:00:00+01:00: valid ISO 8601, but before year 1 in UTC.
        raise MappingError(QuarantineReason.SCHEMA_VIOLATION, f"time out of range: {value.isoformat()}") from exc


def payload_domain(value: str | None) -> str | None:
    """The normalised domain name (`INVALID_DOMAIN` when it is not one), or None when absent."""
    if value is None:
        return None
    try:
        return normalize_domain(value)
    except InvalidDomainNameError as exc:
        raise MappingError(QuarantineReason.INVALID_DOMAIN, str(exc)) from exc
