"""Reading one record of `registrar.normalized.v1` as a canonical event, whatever the record holds.

Whatever goes wrong while decoding (a header that is not UTF-8, a negative or non-numeric lineage offset, a value
that is not JSON, data that does not validate) is one `InvalidEventError` with a message that names what was wrong
and where, never the offending value: the message ends up in a quarantine header and in logs, and a payload may
carry a secret.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from regpipe.contract.cloudevents import from_kafka_record
from regpipe.contract.envelope import CanonicalEvent
from regpipe.contract.errors import RecordDecodeError
from regpipe.dedup.errors import InvalidEventError

__all__ = ["decode_event", "describe_validation_error"]

_MAX_ERRORS = 5


def decode_event(value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> CanonicalEvent:
    """The canonical event of a record; `InvalidEventError` (with a value-free reason) for anything else."""
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
