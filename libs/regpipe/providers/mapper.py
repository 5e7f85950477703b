"""What every provider mapper is: its input, its error (with the quarantine reasons) and its signature.

A mapper is a pure function from one raw record (bytes + headers + lineage) to zero, one or several canonical
events; it does no I/O, so it can be tested exhaustively without a broker. Anything it cannot map raises
`MappingError` with a machine-readable reason, and the normalizer quarantines the record. The steps mappers are
written with live in `regpipe.providers.kit`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from regpipe.contract.envelope import CanonicalEvent, Lineage
from regpipe.contract.raw import RawHeaders

__all__ = [
    "MapFunction",
    "MappingError",
    "QuarantineReason",
    "RawInput",
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
    NESTING_TOO_DEEP = "nesting_too_deep"  # objects/arrays nested beyond the mapper kit's limit
    NUMBER_TOO_LARGE = "number_too_large"  # an integer with more digits than Python reads (4,300)
    UNSAFE_FIELDS = "unsafe_fields"  # an event that carries credentials has fields not known to be safe
    PROVIDER_ERROR = "provider_error"  # e.g. an OpenSRS reply with is_success=0
    UNVERIFIED_EMAIL = "unverified_email"  # an e-mail nothing trusted vouches for: held (docs/email-authentication.md)
    MAPPER_ERROR = "mapper_error"  # a mapper bug: an unexpected exception escaped it (set by the normalizer)
    TOO_LARGE = "too_large"  # a canonical event would exceed what its topic takes (set by the normalizer)
    DEADLINE_EXCEEDED = "deadline_exceeded"  # mapping took longer than a record may (set by the normalizer)


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
