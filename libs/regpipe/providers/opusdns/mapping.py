"""Pure mapping of one OpusDNS raw record to canonical events, following the OpusDNS table of docs/taxonomy.md.

A raw record is a whole listing page (`{"results": [...], "pagination": {...}}`, as the poller publishes it) or a
single event object (`GET /v1/events/{event_id}`); every event in it maps to exactly one canonical event, routed by
the top-level `object_type` / `type` / `subtype` for V1 and legacy (pre-V1) `event_data` alike.

Where the table says nothing: a DOMAIN event of a `type` OpusDNS adds later maps to the generic
`domain.operation.notification` (operation = the type, lower case) so it is not lost; an `object_type` nobody
documented is unroutable (`unknown_event_type`). `acknowledged_on` is left out on purpose: it is the event's
delivery state, not its content, and would make one provider event map to two different payloads.
"""

from __future__ import annotations

import re
from typing import Any, Final

import orjson
from pydantic import JsonValue, ValidationError

from regpipe.contract.envelope import CanonicalEvent
from regpipe.contract.events import (
    AccountBalanceLow,
    AccountMessage,
    ContactEvent,
    DomainDeleted,
    DomainDeletionFailed,
    DomainEventData,
    DomainModificationFailed,
    DomainModified,
    DomainOperationNotification,
    DomainRegistered,
    DomainRegistrationFailed,
    DomainRenewalFailed,
    DomainRenewed,
    DomainTransferStatusChanged,
    DomainTransit,
    DomainVerificationStatusChanged,
    DomainWithdrawn,
    EventData,
    HostEvent,
    ProviderError,
    RegistryMessage,
    VanityNsStatusChanged,
    VerificationDeadline,
    VerificationRegistrant,
)
from regpipe.contract.taxonomy import EventType, Outcome
from regpipe.providers.kit import EventFactory, decode_json_object, domain_or_none, quarantines_hostile_shapes
from regpipe.providers.mapper import MappingError, QuarantineReason, RawInput
from regpipe.providers.opusdns.payloads import (
    DomainRenewalDetails,
    DomainVerificationDetails,
    Event,
    EventDataV1,
    ObjectType,
    Operation,
    Subtype,
)

__all__ = ["MAPPER_VERSION", "map_record"]

MAPPER_VERSION: Final = "opusdns/1.0.0"

_OUTCOMES: Final[dict[str, Outcome]] = {
    Subtype.SUCCESS: Outcome.SUCCESS,
    Subtype.FAILURE: Outcome.FAILURE,
    Subtype.CANCELED: Outcome.CANCELED,
    Subtype.NOTIFICATION: Outcome.NOTIFICATION,
}

# DOMAIN operations with a result: (type on success, its model), (type on failure/cancel, its model), operation.
_RESULT_OPERATIONS: Final[dict[str, tuple[EventType, type[DomainEventData], EventType, type[DomainEventData], str]]] = {
    Operation.REGISTRATION: (
        EventType.DOMAIN_REGISTERED,
        DomainRegistered,
        EventType.DOMAIN_REGISTRATION_FAILED,
        DomainRegistrationFailed,
        "registration",
    ),
    Operation.RENEWAL: (
        EventType.DOMAIN_RENEWED,
        DomainRenewed,
        EventType.DOMAIN_RENEWAL_FAILED,
        DomainRenewalFailed,
        "renewal",
    ),
    Operation.DELETION: (
        EventType.DOMAIN_DELETED,
        DomainDeleted,
        EventType.DOMAIN_DELETION_FAILED,
        DomainDeletionFailed,
        "deletion",
    ),
    Operation.MODIFICATION: (
        EventType.DOMAIN_MODIFIED,
        DomainModified,
        EventType.DOMAIN_MODIFICATION_FAILED,
        DomainModificationFailed,
        "modification",
    ),
}
_VANITY_STATUS: Final[dict[str, str]] = {
    Operation.VANITY_NS_PROVISION: "provisioned",
    Operation.VANITY_NS_SUSPENSION: "suspended",
    Operation.VANITY_NS_RESTORATION: "restored",
    Operation.VANITY_NS_TERMINATION: "terminated",
}
_SIMPLE_DOMAIN_TYPES: Final[dict[str, tuple[EventType, type[DomainEventData]]]] = {
    Operation.TRANSIT: (EventType.DOMAIN_TRANSIT, DomainTransit),
    Operation.WITHDRAW: (EventType.DOMAIN_WITHDRAWN, DomainWithdrawn),
}

#: Other OpusDNS ids are TypeIDs (`domain_01h…`, `contact_01h…`); a value of this shape is never a domain name.
_TYPEID: Final = re.compile(r"^[a-z](?:[a-z_]*[a-z])?_[0-7][0-9a-hjkmnpq-tv-z]{25}$")
#: A domain name inside a message ("Domain example.com registered successfully"); labels of letters, digits and
#: hyphens (any script), a TLD of letters or an A-label; not part of an e-mail address or a longer token.
_NAME_IN_TEXT: Final = re.compile(
    r"(?<![@\w.-])((?:[^\W_](?:[^\W_]|-){0,62}\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59}))(?![\w@-])", re.IGNORECASE
)


@quarantines_hostile_shapes
def map_record(raw: RawInput) -> list[CanonicalEvent]:
    """Map a listing page (every event of `results`) or a single event object to canonical events."""
    document = decode_json_object(raw.body)
    if "results" in document:
        items = document["results"]
        if not isinstance(items, list):
            raise MappingError(QuarantineReason.SCHEMA_VIOLATION, "results: expected a list of events")
    elif "event_id" in document:
        items = [document]
    else:
        raise MappingError(QuarantineReason.SCHEMA_VIOLATION, "neither a page of events nor an event object")
    events: list[CanonicalEvent] = []
    seen: set[bytes] = set()
    for index, item in enumerate(items):
        event = _parse(item, index)
        fingerprint = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
        if fingerprint in seen:
            continue  # the same event listed twice in one page (the API has done so): map it once
        seen.add(fingerprint)
        try:
            events.append(_map_event(raw, event))
        except ValidationError as exc:
            # A value the payload model let through but the canonical model refuses (e.g. an odd deadline type).
            raise MappingError(
                QuarantineReason.SCHEMA_VIOLATION, f"results[{index}]: {exc.errors()[0]['msg']}"
            ) from exc
    return events


def _parse(item: Any, index: int) -> Event:
    if not isinstance(item, dict):
        raise MappingError(QuarantineReason.SCHEMA_VIOLATION, f"results[{index}]: expected an event object")
    try:
        return Event.model_validate(item)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise MappingError(
            QuarantineReason.SCHEMA_VIOLATION, f"results[{index}].{where}: {first['msg']} ({exc.error_count()} errors)"
        ) from exc


class _SharedParts:
    """What every canonical event of one OpusDNS event shares: message, error, provider fields, domain reference."""

    def __init__(self, event: Event) -> None:
        self.event = event
        data = event.event_data
        self.message: str | None = None
        self.error: ProviderError | None = None
        self.details: DomainRenewalDetails | DomainVerificationDetails | dict[str, JsonValue] | None = None
        self.unmapped_data: dict[str, JsonValue]
        if isinstance(data, EventDataV1):
            self.message = data.message
            if data.error is not None:
                self.error = ProviderError(code=data.error.code, detail=data.error.detail)
            self.details = data.details
            self.unmapped_data = {"version": data.version, **_extra(data)}
            if data.error is not None and data.error.model_extra:
                self.unmapped_data["error"] = _extra(data.error)
        else:
            self.unmapped_data = dict(data)  # legacy shape: kept whole
        self.extra: dict[str, JsonValue] = _extra(event)

    def common(self, **unmapped: JsonValue) -> dict[str, Any]:
        """Keyword arguments every data model takes: message, error and provider_fields."""
        fields: dict[str, JsonValue] = {**self.extra, **unmapped}
        if self.unmapped_data:
            fields["event_data"] = self.unmapped_data
        return {"message": self.message, "error": self.error, "provider_fields": fields}

    def unused_details(self) -> dict[str, JsonValue]:
        """The details object for provider_fields, when the event type makes no use of it."""
        if self.details is None:
            return {}
        dumped: JsonValue = self.details if isinstance(self.details, dict) else self.details.model_dump(mode="json")
        return {"details": dumped}

    def texts(self) -> list[str]:
        return [text for text in (self.message, self.error.detail if self.error else None) if text]


def _extra(model: Any) -> dict[str, JsonValue]:
    return dict(model.model_extra or {})


def _map_event(raw: RawInput, event: Event) -> CanonicalEvent:
    fields = _SharedParts(event)
    operation, subtype = event.type, event.subtype
    outcome = _OUTCOMES.get(subtype or "", Outcome.NOTIFICATION)
    domain: str | None = None
    data: EventData
    if operation == Operation.BALANCE:
        canonical = EventType.ACCOUNT_BALANCE_LOW
        outcome = Outcome.NOTIFICATION  # a warning, whatever the subtype says
        data = AccountBalanceLow(account=event.object_id, **fields.common(**fields.unused_details()))
    elif operation in _VANITY_STATUS:
        canonical = EventType.VANITY_NS_STATUS_CHANGED
        data = VanityNsStatusChanged(
            vanity_ns_set_id=event.object_id,
            status=_VANITY_STATUS[operation],
            **fields.common(**fields.unused_details()),
        )
    elif event.object_type == ObjectType.DOMAIN:
        domain, canonical, outcome, data = _domain_event(fields, outcome)
    elif event.object_type == ObjectType.CONTACT:
        canonical = EventType.CONTACT_EVENT
        data = ContactEvent(
            contact_id=event.object_id, operation=_lower(operation), **fields.common(**fields.unused_details())
        )
    elif event.object_type == ObjectType.HOST:
        canonical = EventType.HOST_EVENT
        data = _host_event(fields, operation)
    elif event.object_type == ObjectType.ACCOUNT:
        canonical = EventType.ACCOUNT_MESSAGE
        data = AccountMessage(
            operation=_lower(operation), **fields.common(object_id=event.object_id, **fields.unused_details())
        )
    elif event.object_type in (ObjectType.RAW, ObjectType.UNKNOWN, ObjectType.VANITY_NS_SET):
        canonical = EventType.REGISTRY_MESSAGE
        data = RegistryMessage(
            object_type=event.object_type,
            object_id=event.object_id,
            operation=_lower(operation),
            **fields.common(**fields.unused_details()),
        )
    else:
        raise MappingError(QuarantineReason.UNKNOWN_EVENT_TYPE, f"{event.event_id}: not a documented object_type")
    factory = EventFactory(
        raw=raw,
        mapper_version=MAPPER_VERSION,
        provider_event_id=event.event_id,
        provider_event_type=f"{event.object_type}.{operation or '-'}.{subtype or '-'}",
        time=event.created_on,
    )
    return factory.event(canonical, outcome, data, domain=domain, fallback_key=event.object_id)


def _domain_event(fields: _SharedParts, outcome: Outcome) -> tuple[str | None, EventType, Outcome, DomainEventData]:
    event = fields.event
    operation, subtype = event.type, event.subtype
    domain, domain_id = _domain_reference(fields)
    ref: dict[str, Any] = {"domain": domain, "domain_id": domain_id}
    if domain is None and domain_id is None:
        raise MappingError(
            QuarantineReason.SCHEMA_VIOLATION, f"{event.event_id}: a DOMAIN event that names no domain nor domain id"
        )
    data: DomainEventData
    if operation in _RESULT_OPERATIONS:
        success_type, success_model, failed_type, failed_model, noun = _RESULT_OPERATIONS[operation]
        if subtype == Subtype.SUCCESS:
            if success_model is DomainRenewed and isinstance(fields.details, DomainRenewalDetails):
                data = DomainRenewed(expires_at=fields.details.expires_on, **ref, **fields.common())
            else:
                data = success_model(**ref, **fields.common(**fields.unused_details()))
            return domain, success_type, outcome, data
        if subtype in (Subtype.FAILURE, Subtype.CANCELED):
            data = failed_model(**ref, **fields.common(**fields.unused_details()))
            return domain, failed_type, outcome, data
        return domain, *_notification(fields, ref, noun)
    if operation in (Operation.INBOUND_TRANSFER, Operation.OUTBOUND_TRANSFER):
        direction = "inbound" if operation == Operation.INBOUND_TRANSFER else "outbound"
        data = DomainTransferStatusChanged(direction=direction, **ref, **fields.common(**fields.unused_details()))
        return domain, EventType.DOMAIN_TRANSFER_STATUS_CHANGED, outcome, data
    if operation in _SIMPLE_DOMAIN_TYPES:
        canonical, model = _SIMPLE_DOMAIN_TYPES[operation]
        return domain, canonical, outcome, model(**ref, **fields.common(**fields.unused_details()))
    if operation == Operation.VERIFICATION:
        return domain, EventType.DOMAIN_VERIFICATION_STATUS_CHANGED, outcome, _verification(fields, ref)
    # No type, or one added after this mapper was written: keep it, as a notification about the domain.
    return domain, *_notification(fields, ref, _lower(operation) or "unknown")


def _notification(
    fields: _SharedParts, ref: dict[str, Any], operation: str
) -> tuple[EventType, Outcome, DomainOperationNotification]:
    data = DomainOperationNotification(operation=operation, **ref, **fields.common(**fields.unused_details()))
    return EventType.DOMAIN_OPERATION_NOTIFICATION, Outcome.NOTIFICATION, data


def _verification(fields: _SharedParts, ref: dict[str, Any]) -> DomainVerificationStatusChanged:
    details = fields.details
    if not isinstance(details, DomainVerificationDetails):
        return DomainVerificationStatusChanged(**ref, **fields.common(**fields.unused_details()))
    leftover: dict[str, JsonValue] = _extra(details)
    if ref["domain_id"] is None:
        ref = {**ref, "domain_id": details.domain_id}
    elif details.domain_id != ref["domain_id"]:
        leftover["domain_id"] = details.domain_id
    unmapped: dict[str, JsonValue] = {"details": leftover} if leftover else {}
    return DomainVerificationStatusChanged(
        verification_deadlines=[VerificationDeadline(type=d.type, date=d.date) for d in details.verification_deadlines],
        verification_claims=list(details.verification_claims),
        registrants=[
            VerificationRegistrant(contact_id=r.contact_id, name=r.name, email=r.email) for r in details.registrants
        ],
        **ref,
        **fields.common(**unmapped),
    )


def _host_event(fields: _SharedParts, operation: str | None) -> HostEvent:
    object_id = fields.event.object_id
    host_name = _as_domain(object_id) if object_id else None
    host_id = None if host_name else object_id
    if host_name is None:
        host_name = _name_in_texts(fields.texts())
    return HostEvent(
        host_id=host_id, host_name=host_name, operation=_lower(operation), **fields.common(**fields.unused_details())
    )


def _domain_reference(fields: _SharedParts) -> tuple[str | None, str | None]:
    """(domain name, provider domain id): `object_id` is one or the other; a name in the message fills in."""
    object_id = fields.event.object_id
    name = _as_domain(object_id) if object_id else None
    domain_id = object_id if object_id and name is None else None
    if domain_id is None and isinstance(fields.details, DomainVerificationDetails):
        domain_id = fields.details.domain_id
    if name is None:
        name = _name_in_texts(fields.texts())
    return name, domain_id


def _as_domain(value: str) -> str | None:
    """The normalised domain when `value` is a domain name (has a dot, is not a TypeID), else None.

    A value that looks like a name but cannot be normalised is kept as an id instead of failing the event: one
    odd name must not send the whole page it came in to quarantine.
    """
    if "." not in value or _TYPEID.match(value) or any(char.isspace() or char in "@/:" for char in value):
        return None
    return domain_or_none(value)


def _name_in_texts(texts: list[str]) -> str | None:
    """The one domain name the texts mention (None when they mention none, or several different ones)."""
    found = {name for text in texts for match in _NAME_IN_TEXT.finditer(text) if (name := _as_domain(match[1]))}
    return found.pop() if len(found) == 1 else None


def _lower(value: str | None) -> str | None:
    return value.lower() if value else None
