"""What every provider mapper shares: its input, its error, its signature, and the builder of canonical events.

A mapper is a pure function from one raw record (bytes + headers + lineage) to zero, one or several canonical
events; it does no I/O, so it can be tested exhaustively without a broker. Anything it cannot map raises
`MappingError` with a machine-readable reason, and the normalizer quarantines the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import JsonValue

from regpipe.contract.envelope import CanonicalEvent, Lineage
from regpipe.contract.events.base import EventData
from regpipe.contract.ids import canonical_event_id
from regpipe.contract.names import partition_key
from regpipe.contract.raw import RawHeaders
from regpipe.contract.taxonomy import EventType, Outcome

__all__ = [
    "MapFunction",
    "MappingError",
    "QuarantineReason",
    "RawInput",
    "build_event",
    "parse_provider_time",
]


class QuarantineReason(StrEnum):
    """Why a raw record could not be mapped (the `reason` of a quarantine record)."""

    UNREADABLE_BYTES = "unreadable_bytes"  # not decodable text (bad charset, truncated)
    INVALID_JSON = "invalid_json"
    INVALID_XML = "invalid_xml"
    INVALID_EMAIL = "invalid_email"  # not an event-notification e-mail, or no JSON found in it
    INVALID_HEADERS = "invalid_headers"  # the raw record's own headers are missing or malformed
    UNSEALABLE = "unsealable"  # sealed with an unknown key, or tampered with
    UNKNOWN_SOURCE = "unknown_source"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    SCHEMA_VIOLATION = "schema_violation"  # known type, but fields missing or of the wrong type
    INVALID_DOMAIN = "invalid_domain"
    PROVIDER_ERROR = "provider_error"  # e.g. an OpenSRS reply with is_success=0
    MAPPER_ERROR = "mapper_error"  # a mapper bug: an unexpected exception escaped it (set by the normalizer)


class MappingError(Exception):
    """A raw record that cannot be mapped; carries the quarantine reason and a human-readable message."""

    def __init__(self, reason: QuarantineReason, message: str) -> None:
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class RawInput:
    """One raw record as a mapper sees it: the provider's original (unsealed) bytes, headers and lineage."""

    body: bytes
    headers: RawHeaders
    lineage: Lineage | None = None


#: The signature every provider's `mapping.map_record` has.
MapFunction = Callable[[RawInput], list[CanonicalEvent]]


def parse_provider_time(value: str | None, *, field: str) -> datetime | None:
    """Parse an ISO 8601 provider timestamp; a time without a zone is UTC (as OpusDNS and others send them)."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        # OverflowError: a valid time at the edge of the calendar (0001-01-01T00:00+01:00) has no UTC equivalent.
        raise MappingError(QuarantineReason.SCHEMA_VIOLATION, f"{field}: not a usable ISO 8601 time") from exc


def build_event(
    raw: RawInput,
    *,
    type: EventType,
    outcome: Outcome,
    provider_event_id: str,
    provider_event_type: str,
    time: datetime | None,
    data: EventData,
    mapper_version: str,
    domain: str | None = None,
    fallback_key: str | None = None,
    item_index: int | None = None,
    extra_fields: dict[str, JsonValue] | None = None,
) -> CanonicalEvent:
    """Assemble a canonical event with its deterministic id, subject and partition key.

    `provider_event_id` must be the provider's id (or a content fingerprint where it has none); `time` falls back
    to when we received the record, for providers whose envelope carries no timestamp.
    """
    if extra_fields:
        data = data.model_copy(update={"provider_fields": {**data.provider_fields, **extra_fields}})
    return CanonicalEvent(
        id=canonical_event_id(
            source=raw.headers.source,
            provider_event_id=provider_event_id,
            provider_event_type=provider_event_type,
            canonical_type=type,
            item_index=item_index,
        ),
        source=raw.headers.source,
        type=type,
        subject=partition_key(domain=domain, fallback="-") if domain else None,
        time=time or raw.headers.received_at,
        partition_key=partition_key(domain=domain, fallback=fallback_key or provider_event_id),
        outcome=outcome,
        provider_event_id=provider_event_id,
        provider_event_type=provider_event_type,
        transport=raw.headers.transport,
        lineage=raw.lineage,
        mapper_version=mapper_version,
        data=data,
    )
