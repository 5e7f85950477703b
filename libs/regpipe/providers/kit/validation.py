"""Validating provider payloads against their models, and describing a failure without quoting the payload.

Error texts never include input values: payloads can hold secrets (EPP auth codes, mailbox passwords), and these
texts reach logs and the quarantine topic.
"""

from __future__ import annotations

from typing import Final, TypeVar

from pydantic import BaseModel, JsonValue, ValidationError

from regpipe.providers.mapper import MappingError, QuarantineReason

__all__ = ["describe_validation_error", "parse_payload", "schema_violation"]

_Model = TypeVar("_Model", bound=BaseModel)

_MAX_LISTED: Final = 5  # errors named in a description
_MAX_DEPTH: Final = 8  # path parts named per error
_MAX_PART: Final = 60  # characters per path part or message


def describe_validation_error(exc: ValidationError) -> str:
    """Where and why validation failed, without the offending values, and bounded in length.

    The text becomes a quarantine header: a payload with thousands of bad items lists the first few and a count.
    """
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    listed = "; ".join(f"{_where(error['loc'])}: {error['msg'][:_MAX_PART]}" for error in errors[:_MAX_LISTED])
    return f"{listed} ({len(errors)} errors)" if len(errors) > _MAX_LISTED else listed


def _where(loc: tuple[int | str, ...]) -> str:
    parts = [str(part)[:_MAX_PART] for part in loc[:_MAX_DEPTH]]
    return ".".join(parts) + (".…" if len(loc) > _MAX_DEPTH else "") if parts else "$"


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
