"""Pure mapping of OpenSRS raw records (a whole EVENT POLL reply, or one notification e-mail) to canonical events,
following the OpenSRS table of docs/taxonomy.md.

The same OpenSRS event maps to the same canonical event whichever route it took: the id is derived from the
event id and `OBJECT.EVENT`, never the transport, and values are normalised so that the XML poll (all text) and
the JSON e-mail (numbers where OpenSRS writes numbers) agree. A poll reply maps all of its events or, if any of
them cannot be mapped, none (the whole record is quarantined and can be replayed once the mapping is fixed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from pydantic import ValidationError

from regpipe.contract.envelope import CanonicalEvent
from regpipe.contract.events import (
    AccountMessage,
    DomainCreated,
    DomainDeleted,
    DomainExpired,
    DomainNameserversUpdated,
    DomainRegistered,
    DomainRegistrantChangeStatusChanged,
    DomainRenewed,
    DomainTransferStatusChanged,
    DomainVerificationStatusChanged,
    DomainZoneCheckStatusChanged,
    EventData,
    OrderClaimStatusChanged,
    OrderStatusChanged,
)
from regpipe.contract.taxonomy import EventType, Outcome, Transport
from regpipe.providers.kit import (
    EventFactory,
    FieldReader,
    as_text,
    check_nesting,
    parse_time,
    quarantines_hostile_shapes,
    schema_violation,
)
from regpipe.providers.mapper import MappingError, QuarantineReason, RawInput
from regpipe.providers.opensrs.email import extract_event
from regpipe.providers.opensrs.errors import EnvelopeError
from regpipe.providers.opensrs.payloads import OpenSRSEvent
from regpipe.providers.opensrs.protocol import decode_reply, reply_event_items

__all__ = ["MAPPER_VERSION", "map_event_object", "map_record"]

MAPPER_VERSION: Final = "opensrs/1.0.0"

_ZONE_CHECK_OUTCOMES: Final = {"valid": Outcome.SUCCESS, "invalid": Outcome.FAILURE}
_VERIFICATION_OUTCOMES: Final = {"verified": Outcome.SUCCESS, "suspended": Outcome.FAILURE, "bounced": Outcome.FAILURE}
_ORDER_OUTCOMES: Final = {
    "completed": Outcome.SUCCESS,
    "processed": Outcome.SUCCESS,
    "declined": Outcome.FAILURE,
    "cancelled": Outcome.CANCELED,
}
_CLAIM_OUTCOMES: Final = {"accepted": Outcome.SUCCESS, "declined": Outcome.FAILURE, "cancelled": Outcome.CANCELED}
_TRANSFER_OUTCOMES: Final = {"completed": Outcome.SUCCESS, "cancelled": Outcome.CANCELED}


@quarantines_hostile_shapes
def map_record(raw: RawInput) -> list[CanonicalEvent]:
    """Map one OpenSRS raw record to its canonical events; raise `MappingError` when it cannot be mapped."""
    if raw.headers.transport is Transport.EMAIL:
        return [map_event_object(extract_event(raw.body), raw)]
    if raw.headers.transport is not Transport.POLL:
        raise MappingError(
            QuarantineReason.INVALID_HEADERS, f"OpenSRS records come by poll or e-mail, not {raw.headers.transport}"
        )
    try:
        reply = decode_reply(raw.body)
    except EnvelopeError as exc:
        raise MappingError(QuarantineReason.INVALID_XML, str(exc)) from exc
    if not reply.is_success:
        raise MappingError(QuarantineReason.PROVIDER_ERROR, f"poll reply with response code {reply.response_code}")
    try:
        items = reply_event_items(reply)
    except EnvelopeError as exc:
        raise MappingError(QuarantineReason.SCHEMA_VIOLATION, str(exc)) from exc
    return [map_event_object(item, raw) for item in items]


def map_event_object(obj: Mapping[str, object], raw: RawInput) -> CanonicalEvent:
    """Map one OpenSRS event object (a poll reply item, or the JSON of an e-mail)."""
    check_nesting(obj)
    try:
        event = OpenSRSEvent.model_validate(obj)
    except ValidationError as exc:
        raise schema_violation(exc, "event object") from exc
    handler = _HANDLERS.get((event.object, event.event)) or _ANY_OBJECT.get(event.event)
    if handler is None:
        raise MappingError(QuarantineReason.UNKNOWN_EVENT_TYPE, "not a known OpenSRS OBJECT/EVENT pair")
    fields = FieldReader(event.object_data)
    try:
        mapped = handler(fields)
        unread = fields.unread()
        if event.model_extra:
            unread["envelope"] = dict(event.model_extra)
        data = mapped.data_model.model_validate({**mapped.data, "provider_fields": unread})
    except ValidationError as exc:
        raise schema_violation(exc, event.provider_type) from exc
    factory = EventFactory(
        raw=raw,
        mapper_version=MAPPER_VERSION,
        provider_event_id=event.event_id,
        provider_event_type=event.provider_type,
        time=parse_time(as_text(event.event_date, "event_date"), field="event_date"),
    )
    return factory.event(
        mapped.event_type, mapped.outcome, data, domain=mapped.domain, fallback_key=mapped.fallback_key
    )


@dataclass(frozen=True, slots=True)
class _Mapped:
    event_type: EventType
    outcome: Outcome
    data_model: type[EventData]
    data: dict[str, object]
    domain: str | None
    fallback_key: str | None = None


def _domain_event(
    fields: FieldReader, event_type: EventType, model: type[EventData], outcome: Outcome, **data: object
) -> _Mapped:
    domain = fields.domain("domain_name")
    domain_id = fields.text("domain_id")
    return _Mapped(
        event_type=event_type,
        outcome=outcome,
        data_model=model,
        data={"domain": domain, "domain_id": domain_id, **data},
        domain=domain,
        fallback_key=domain_id,
    )


def _created(fields: FieldReader) -> _Mapped:
    expires_at = fields.time("expiration_date")
    return _domain_event(fields, EventType.DOMAIN_CREATED, DomainCreated, Outcome.SUCCESS, expires_at=expires_at)


def _registered(fields: FieldReader) -> _Mapped:
    return _domain_event(
        fields,
        EventType.DOMAIN_REGISTERED,
        DomainRegistered,
        Outcome.SUCCESS,
        expires_at=fields.time("expiration_date"),
        period_years=fields.integer("period"),
        order_id=fields.identifier("order_id"),
    )


def _renewed(fields: FieldReader) -> _Mapped:
    return _domain_event(
        fields,
        EventType.DOMAIN_RENEWED,
        DomainRenewed,
        Outcome.SUCCESS,
        expires_at=fields.time("expiration_date"),
        period_years=fields.integer("period"),
        order_id=fields.identifier("order_id"),
    )


def _expired(fields: FieldReader) -> _Mapped:
    expires_at = fields.time("expiration_date")
    return _domain_event(fields, EventType.DOMAIN_EXPIRED, DomainExpired, Outcome.NOTIFICATION, expires_at=expires_at)


def _deleted(fields: FieldReader) -> _Mapped:
    return _domain_event(
        fields,
        EventType.DOMAIN_DELETED,
        DomainDeleted,
        Outcome.SUCCESS,
        reason=fields.text("reason"),
        deleted_at=fields.time("deletion_date"),
        redemption_grace_period_ends_at=fields.time("redemption_grace_period_end_date"),
    )


def _nameserver_update(fields: FieldReader) -> _Mapped:
    nameservers = fields.host_names("nameserver_list")
    return _domain_event(
        fields, EventType.DOMAIN_NAMESERVERS_UPDATED, DomainNameserversUpdated, Outcome.SUCCESS, nameservers=nameservers
    )


def _zone_check(fields: FieldReader) -> _Mapped:
    status = fields.text("zone_check_status")
    return _domain_event(
        fields,
        EventType.DOMAIN_ZONE_CHECK_STATUS_CHANGED,
        DomainZoneCheckStatusChanged,
        _ZONE_CHECK_OUTCOMES.get(status or "", Outcome.NOTIFICATION),
        zone_check_status=status,
    )


def _verification(fields: FieldReader) -> _Mapped:
    status = fields.text("verification_status")
    return _domain_event(
        fields,
        EventType.DOMAIN_VERIFICATION_STATUS_CHANGED,
        DomainVerificationStatusChanged,
        _VERIFICATION_OUTCOMES.get(status or "", Outcome.NOTIFICATION),
        verification_status=status,
    )


def _trade(fields: FieldReader) -> _Mapped:
    # The field name is not documented for events; OpenSRS's trade API calls it trade_status.
    status = fields.text("status") or fields.text("trade_status")
    return _domain_event(
        fields,
        EventType.DOMAIN_REGISTRANT_CHANGE_STATUS_CHANGED,
        DomainRegistrantChangeStatusChanged,
        Outcome.NOTIFICATION,
        status=status,
    )


def _message(fields: FieldReader) -> _Mapped:
    domain = fields.domain("domain_name")
    return _Mapped(
        event_type=EventType.ACCOUNT_MESSAGE,
        outcome=Outcome.NOTIFICATION,
        data_model=AccountMessage,
        data={
            "message_type": fields.text("message_type"),
            "status": fields.text("message_status") or fields.text("status"),
            "domain": domain,
            "recipient": fields.text("to_address"),
        },
        domain=domain,
    )


def _order_event(
    fields: FieldReader,
    event_type: EventType,
    model: type[EventData],
    status_field: str,
    outcomes: dict[str, Outcome],
    **data: object,
) -> _Mapped:
    domain = fields.domain("domain_name")
    order_id = fields.identifier("order_id")
    status = fields.text(status_field)
    return _Mapped(
        event_type=event_type,
        outcome=outcomes.get(status or "", Outcome.NOTIFICATION),
        data_model=model,
        data={"order_id": order_id, "domain": domain, status_field: status, **data},
        domain=domain,
        fallback_key=order_id,
    )


def _order_status(fields: FieldReader) -> _Mapped:
    reg_type = fields.text("order_reg_type")
    return _order_event(
        fields,
        EventType.ORDER_STATUS_CHANGED,
        OrderStatusChanged,
        "order_status",
        _ORDER_OUTCOMES,
        order_reg_type=reg_type,
    )


def _claim_status(fields: FieldReader) -> _Mapped:
    return _order_event(
        fields, EventType.ORDER_CLAIM_STATUS_CHANGED, OrderClaimStatusChanged, "claim_status", _CLAIM_OUTCOMES
    )


def _transfer_status(fields: FieldReader) -> _Mapped:
    status = fields.text("transfer_status")
    return _domain_event(
        fields,
        EventType.DOMAIN_TRANSFER_STATUS_CHANGED,
        DomainTransferStatusChanged,
        _TRANSFER_OUTCOMES.get(status or "", Outcome.NOTIFICATION),
        transfer_id=fields.identifier("transfer_id"),
        order_id=fields.identifier("order_id"),
        transfer_status=status,
    )


_Handler = Callable[[FieldReader], _Mapped]

#: (OBJECT, EVENT) -> handler: the OpenSRS table of docs/taxonomy.md.
_HANDLERS: Final[dict[tuple[str, str], _Handler]] = {
    ("DOMAIN", "CREATED"): _created,
    ("DOMAIN", "REGISTERED"): _registered,
    ("DOMAIN", "RENEWED"): _renewed,
    ("DOMAIN", "EXPIRED"): _expired,
    ("DOMAIN", "DELETED"): _deleted,
    ("DOMAIN", "NAMESERVER_UPDATE"): _nameserver_update,
    ("DOMAIN", "ZONE_CHECK_STATUS_CHANGE"): _zone_check,
    ("DOMAIN", "REGISTRANT_VERIFICATION_STATUS_CHANGE"): _verification,
    ("DOMAIN", "ICANN_TRADE_STATUS_CHANGE"): _trade,
    ("ORDER", "STATUS_CHANGE"): _order_status,
    ("ORDER", "CLAIM_STATUS_CHANGE"): _claim_status,
    ("TRANSFER", "STATUS_CHANGE"): _transfer_status,
}
#: Events mapped whatever their OBJECT (undocumented for these).
_ANY_OBJECT: Final[dict[str, _Handler]] = {"MESSAGE_STATUS_CHANGE": _message}
