"""Models of what the OpusDNS events API sends: the event object, the paginated listing, problem+json errors,
the OAuth token answer, and `event_data` in its V1 shape (message, error, details) or the legacy pre-V1 shape.

These are tolerant readers: enumerations OpusDNS has grown before (`type` gained BALANCE and VANITY_NS_*) are
open strings, with the documented values in the enums below, so a new value never stops the poller; unknown
fields are kept (`model_extra`) so the mapper can pass them on. Times without a zone are UTC.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, JsonValue, Tag

from regpipe.providers.kit.times import IsoTime

__all__ = [
    "EVENT_ID_PATTERN",
    "LEGACY_EVENT_ID_PREFIX",
    "DomainRenewalDetails",
    "DomainVerificationDetails",
    "Event",
    "EventDataV1",
    "EventError",
    "EventId",
    "EventPage",
    "ObjectType",
    "Operation",
    "Pagination",
    "Problem",
    "SortField",
    "SortOrder",
    "Subtype",
    "TokenResponse",
    "UtcDatetime",
    "VerificationDeadline",
    "VerificationRegistrant",
]

#: Event ids are TypeIDs (`event_` + 26 base32 characters of a UUIDv7). Events created before 2026-05-08 carry
#: the prefix `epp_event_`; we assume the same TypeID suffix for them (the API documents only the prefix).
EVENT_ID_PATTERN: Final = r"^(?:epp_)?event_[0-7][0-9a-hjkmnpq-tv-z]{25}$"
LEGACY_EVENT_ID_PREFIX: Final = "epp_event_"

SortField = Literal["created_on", "object_id"]
SortOrder = Literal["asc", "desc"]


#: A provider timestamp: ISO 8601 text (zone-less meaning UTC; a number is refused, as the API documents
#: datetimes), normalised to UTC.
UtcDatetime = IsoTime

EventId = Annotated[str, Field(pattern=EVENT_ID_PATTERN)]


class ObjectType(StrEnum):
    """Documented values of `object_type`."""

    DOMAIN = "DOMAIN"
    CONTACT = "CONTACT"
    HOST = "HOST"
    ACCOUNT = "ACCOUNT"
    VANITY_NS_SET = "VANITY_NS_SET"
    RAW = "RAW"
    UNKNOWN = "UNKNOWN"


class Operation(StrEnum):
    """Documented values of `type`: the operation that triggered the event."""

    REGISTRATION = "REGISTRATION"
    RENEWAL = "RENEWAL"
    MODIFICATION = "MODIFICATION"
    DELETION = "DELETION"
    INBOUND_TRANSFER = "INBOUND_TRANSFER"
    OUTBOUND_TRANSFER = "OUTBOUND_TRANSFER"
    TRANSIT = "TRANSIT"
    WITHDRAW = "WITHDRAW"
    VERIFICATION = "VERIFICATION"
    BALANCE = "BALANCE"
    VANITY_NS_PROVISION = "VANITY_NS_PROVISION"
    VANITY_NS_SUSPENSION = "VANITY_NS_SUSPENSION"
    VANITY_NS_RESTORATION = "VANITY_NS_RESTORATION"
    VANITY_NS_TERMINATION = "VANITY_NS_TERMINATION"


class Subtype(StrEnum):
    """Documented values of `subtype`: the outcome or stage of the operation."""

    NOTIFICATION = "NOTIFICATION"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCELED = "CANCELED"


class _Payload(BaseModel):
    # Frozen, and extra fields kept rather than refused: the provider may add fields at any time.
    model_config = ConfigDict(frozen=True, extra="allow")


class EventError(_Payload):
    """`event_data.error` of a failure event; registry error codes are preserved when available."""

    code: str
    detail: str | None = None  # documented as required; an error without one is still an error worth keeping


class DomainRenewalDetails(_Payload):
    """`event_data.details` of a successful renewal: the new expiry date."""

    detail_type: Literal["domain_renewal"] = "domain_renewal"
    expires_on: UtcDatetime


class VerificationDeadline(_Payload):
    """A deadline of a domain verification (`type`: dedelegation or deletion)."""

    type: str
    date: UtcDatetime


class VerificationRegistrant(_Payload):
    """A registrant contact of a domain under verification (personal data)."""

    contact_id: str
    name: str
    email: str


class DomainVerificationDetails(_Payload):
    """`event_data.details` of a verification event: deadlines, claims to verify and the registrants."""

    detail_type: Literal["domain_verification"] = "domain_verification"
    domain_id: str
    verification_deadlines: list[VerificationDeadline] = Field(default_factory=list)
    verification_claims: list[str] = Field(default_factory=list)
    registrants: list[VerificationRegistrant] = Field(default_factory=list)


def _details_tag(value: Any) -> str:
    detail_type = value.get("detail_type") if isinstance(value, dict) else getattr(value, "detail_type", None)
    return detail_type if detail_type in ("domain_renewal", "domain_verification") else "other"


#: Renewal or verification details; a detail type added later stays a plain dict instead of failing the event.
Details = Annotated[
    Annotated[DomainRenewalDetails, Tag("domain_renewal")]
    | Annotated[DomainVerificationDetails, Tag("domain_verification")]
    | Annotated[dict[str, JsonValue], Tag("other")],
    Discriminator(_details_tag),
]


class EventDataV1(_Payload):
    """The V1 `event_data`: a human-readable message, and an error (failures) or typed details where relevant."""

    version: str = "1.0"
    message: str
    error: EventError | None = None
    details: Details | None = None


_V1_KEYS: Final = frozenset({"version", "message", "error", "details"})


def _event_data_tag(value: Any) -> str:
    if isinstance(value, EventDataV1):
        return "v1"
    if isinstance(value, dict) and (
        "version" in value or (isinstance(value.get("message"), str) and value.keys() <= _V1_KEYS)
    ):
        return "v1"
    return "legacy"


#: V1 event data, or the legacy (pre-V1) shape, which is undocumented and so kept as it came.
EventDataField = Annotated[
    Annotated[EventDataV1, Tag("v1")] | Annotated[dict[str, JsonValue], Tag("legacy")],
    Discriminator(_event_data_tag),
]


class Event(_Payload):
    """One event, as listed by `GET /v1/events` and returned by `GET /v1/events/{event_id}`."""

    event_id: EventId
    object_id: str | None = None
    object_type: str = ObjectType.RAW.value  # the API's documented default
    type: str | None = None
    subtype: str | None = None
    event_data: EventDataField
    created_on: UtcDatetime
    acknowledged_on: UtcDatetime | None = None

    @property
    def legacy(self) -> bool:
        """True when `event_data` has the pre-V1 shape (route such events by type and subtype only)."""
        return not isinstance(self.event_data, EventDataV1)


class Pagination(_Payload):
    """The `pagination` object of a listing."""

    total_pages: int
    total_items: int
    current_page: int
    page_size: int
    has_next_page: bool
    has_previous_page: bool


class EventPage(_Payload):
    """One page of `GET /v1/events`."""

    results: list[Event]
    pagination: Pagination


class Problem(_Payload):
    """An `application/problem+json` error answer; `code` is OpusDNS's machine-readable error code."""

    type: str
    title: str
    status: int
    detail: str | None = None
    code: str | None = None


class TokenResponse(_Payload):
    """The answer of `POST /v1/auth/token`."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 -- the token scheme, not a secret
    expires_in: int = Field(gt=0)
