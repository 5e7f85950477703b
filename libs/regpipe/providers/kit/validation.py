"""Validating provider payloads against their models, and describing a failure without quoting the payload.

Error texts never include input values: payloads can hold secrets (EPP auth codes, mailbox passwords), and these
texts reach logs and the quarantine topic.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, JsonValue, ValidationError

from regpipe.providers.mapper import MappingError, QuarantineReason

__all__ = ["describe_validation_error", "parse_payload", "schema_violation"]

_Model = TypeVar("_Model", bound=BaseModel)


def describe_validation_error(exc: ValidationError) -> str:
    """Where and why validation failed, without the offending values."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '$'}: {error['msg']}"
        for error in exc.errors(include_url=False, include_input=False, include_context=False)
    )


def schema_violation(exc: ValidationError, where: str | None = None) -> MappingError:
    """The `SCHEMA_VIOLATION` for a model that refused a payload (`where` prefixes the description)."""
    described = describe_validation_error(exc)
    return MappingError(QuarantineReason.SCHEMA_VIOLATION, f"{where}: {described}" if where else described)


def parse_payload(model: type[_Model], value: JsonValue, what: str) -> _Model:
    """Validate a JSON object as `model`; `SCHEMA_VIOLATION` (naming `what`) otherwise."""
    if not isinstance(value, dict):
        raise MappingError(QuarantineReason.SCHEMA_VIOLATION, f"{what}: expected an object")
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise schema_violation(exc, what) from exc
