"""Reading one record of `registrar.normalized.v1` as a canonical event, whatever the record holds.

Whatever goes wrong while decoding (a header that is not UTF-8, a negative or non-numeric lineage offset, a value
that is not JSON, data that does not validate) is one `InvalidEventError` with a message that names what was wrong
and where, never the offending value: the message ends up in a quarantine header and in logs, and a payload may
carry a secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from pydantic import ValidationError

from regpipe.contract.cloudevents import from_kafka_record
from regpipe.contract.envelope import CanonicalEvent
from regpipe.contract.errors import RecordDecodeError
from regpipe.dedup.errors import InvalidEventError

__all__ = ["decode_event", "describe_validation_error"]

_MAX_ERRORS = 5
_CE = "ce_"
_LINEAGE = {"ce_rawtopic": "topic", "ce_rawpartition": "partition", "ce_rawoffset": "offset"}
# CloudEvents header -> envelope field, as `regpipe.contract.cloudevents` maps them (`provider_event_id` is
# `ce_providereventid`); `data` is the value, `lineage` three headers.
_FIELD_BY_HEADER = {
    _CE + name.replace("_", ""): name for name in CanonicalEvent.model_fields if name not in ("data", "lineage")
}
_FIELD_BY_HEADER["content-type"] = "datacontenttype"
# What the strict reading may raise; any of them sends the record to the contract's tolerant reader.
_NOT_STRICT = (ValidationError, ValueError, TypeError, KeyError)


def decode_event(value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> CanonicalEvent:
    """The canonical event of a record; `InvalidEventError` (with a value-free reason) for anything else.

    Strict first: the envelope and its data validated as they are, which is what the normalizer writes. Only a
    record that fails that goes through the contract's tolerant reader (`from_kafka_record`, which drops fields a
    newer producer added, at about twice the cost), which also says why a record is not an event.
    """
    try:
        return _strict(value, headers)
    except _NOT_STRICT:
        return _tolerant(value, headers)


def _strict(value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> CanonicalEvent:
    fields: dict[str, Any] = {}
    lineage: dict[str, Any] = {}
    for name, raw in headers:
        field = _FIELD_BY_HEADER.get(name)
        if field is not None:
            fields[field] = raw.decode()
        elif name in _LINEAGE:
            lineage[_LINEAGE[name]] = raw.decode()
    correction = fields.get("correction")
    if correction is not None:
        fields["correction"] = correction == "true"
    if lineage:
        fields["lineage"] = lineage
    fields["data"] = orjson.loads(value or b"")
    return CanonicalEvent.model_validate(fields)


def _tolerant(value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> CanonicalEvent:
    try:
        return from_kafka_record(value or b"", tuple(headers))
    except RecordDecodeError as exc:
        cause = exc.__cause__
        if isinstance(cause, ValidationError):
            raise InvalidEventError(f"not a canonical event: {describe_validation_error(cause)}") from exc
        if cause is not None and not isinstance(cause, ValueError | TypeError):
            raise InvalidEventError(f"not a canonical event: {type(cause).__name__}") from exc
        raise InvalidEventError("not a canonical event: the value is not a JSON object of its type") from exc
    except UnicodeDecodeError as exc:
        raise InvalidEventError("a header is not valid UTF-8") from exc
    except ValidationError as exc:  # the lineage headers, validated before the event
        raise InvalidEventError(f"invalid lineage: {describe_validation_error(exc)}") from exc
    except ValueError as exc:  # int() of a lineage header
        raise InvalidEventError("a lineage header is not a number") from exc


def describe_validation_error(exc: ValidationError) -> str:
    """Where and what failed (`lineage.offset: greater_than_equal`), at most five errors, without input values."""
    errors = exc.errors(include_input=False, include_url=False, include_context=False)
    parts = [f"{'.'.join(str(loc) for loc in error['loc']) or '<root>'}: {error['type']}" for error in errors]
    extra = f" (+{len(parts) - _MAX_ERRORS} more)" if len(parts) > _MAX_ERRORS else ""
    return "; ".join(parts[:_MAX_ERRORS]) + extra
