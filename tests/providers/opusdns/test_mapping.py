"""The OpusDNS mapper: golden fixtures (seed 003 and beyond), every object/type/subtype route, domain resolution,
determinism of ids, and fuzzed input (every body maps or raises MappingError)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regpipe.contract.envelope import CanonicalEvent, Lineage
from regpipe.contract.events import (
    AccountBalanceLow,
    ContactEvent,
    DomainOperationNotification,
    DomainRenewed,
    DomainTransferStatusChanged,
    DomainVerificationStatusChanged,
    HostEvent,
    RegistryMessage,
    VanityNsStatusChanged,
)
from regpipe.contract.raw import RawHeaders
from regpipe.contract.taxonomy import EventType, Outcome, Source, Transport
from regpipe.providers.mapper import MappingError, QuarantineReason, RawInput
from regpipe.providers.opusdns.mapping import MAPPER_VERSION, map_record
from regpipe.providers.opusdns.payloads import Operation, Subtype
from regpipe.simulators.opusdns.events import SEED_OBJECT_TYPES, SEED_OPERATIONS, VANITY_OPERATIONS, EventFactory
from tests.golden._golden import GOLDEN_ROOT, GoldenCase, case_id, check_golden, golden_cases
from tests.golden._mutations import mutated_bodies

CASES = golden_cases(GOLDEN_ROOT / "opusdns")
_RECEIVED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
_EVENT_ID = "event_01h45ytscbebyvny4gc8cr8ma2"


def _zone_less(value: Any) -> Any:
    """`value` with every UTC datetime made naive, as OpusDNS writes times unless asked for RFC 3339."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.utcoffset() is not None else value
    if isinstance(value, dict):
        return {key: _zone_less(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_zone_less(item) for item in value]
    return value


def _raw(document: Any, *, lineage: Lineage | None = None) -> RawInput:
    body = document if isinstance(document, bytes) else orjson.dumps(document)
    headers = RawHeaders(source=Source.OPUSDNS, transport=Transport.POLL, received_at=_RECEIVED, account="acct")
    return RawInput(body=body, headers=headers, lineage=lineage)


def _event(
    object_type: str = "DOMAIN",
    type_: str | None = "REGISTRATION",
    subtype: str | None = "SUCCESS",
    *,
    object_id: str | None = "example.com",
    event_data: dict[str, Any] | None = None,
    event_id: str = _EVENT_ID,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "object_id": object_id,
        "object_type": object_type,
        "type": type_,
        "subtype": subtype,
        "event_data": event_data if event_data is not None else {"version": "1.0", "message": "something happened"},
        "created_on": "2026-05-05T10:30:00Z",
        "acknowledged_on": None,
        **extra,
    }


def _one(event: dict[str, Any]) -> CanonicalEvent:
    (mapped,) = map_record(_raw(event))
    return mapped


def _reason(document: Any) -> QuarantineReason:
    with pytest.raises(MappingError) as raised:
        map_record(_raw(document))
    return raised.value.reason


# --- golden fixtures -----------------------------------------------------------------------------------------


def test_every_seed_example_has_a_golden_case() -> None:
    names = {case.name for case in CASES}
    assert {
        "seed_event_object",
        "seed_successful_event",
        "seed_failure_event",
        "seed_renewal_details",
        "seed_verification_details",
    } <= names


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_golden(case: GoldenCase) -> None:
    events = check_golden(case, map_record)
    for event in events:
        assert event.mapper_version == MAPPER_VERSION
        assert event.lineage == case.raw_input().lineage


def test_seed_event_object_takes_the_domain_from_the_message() -> None:
    (case,) = [case for case in CASES if case.name == "seed_event_object"]
    (event,) = map_record(case.raw_input())
    assert event.type is EventType.DOMAIN_REGISTERED
    assert event.subject == "example.com"
    assert event.data.domain_id == "dom_01h45ytscbebyvny4gc8cr8ma2"  # type: ignore[attr-defined]
    assert event.time == datetime(2026, 1, 15, 10, 30, tzinfo=UTC)


# --- routing: every documented combination --------------------------------------------------------------------

_DOMAIN_RESULT = {
    "REGISTRATION": (EventType.DOMAIN_REGISTERED, EventType.DOMAIN_REGISTRATION_FAILED, "registration"),
    "RENEWAL": (EventType.DOMAIN_RENEWED, EventType.DOMAIN_RENEWAL_FAILED, "renewal"),
    "DELETION": (EventType.DOMAIN_DELETED, EventType.DOMAIN_DELETION_FAILED, "deletion"),
    "MODIFICATION": (EventType.DOMAIN_MODIFIED, EventType.DOMAIN_MODIFICATION_FAILED, "modification"),
}
_OUTCOME = {
    "SUCCESS": Outcome.SUCCESS,
    "FAILURE": Outcome.FAILURE,
    "CANCELED": Outcome.CANCELED,
    "NOTIFICATION": Outcome.NOTIFICATION,
    None: Outcome.NOTIFICATION,
}


def _expected_domain_type(type_: str, subtype: str | None) -> tuple[EventType, Outcome]:
    if type_ in _DOMAIN_RESULT:
        success, failed, _ = _DOMAIN_RESULT[type_]
        if subtype == "SUCCESS":
            return success, Outcome.SUCCESS
        if subtype in ("FAILURE", "CANCELED"):
            return failed, _OUTCOME[subtype]
        return EventType.DOMAIN_OPERATION_NOTIFICATION, Outcome.NOTIFICATION
    return {
        "INBOUND_TRANSFER": EventType.DOMAIN_TRANSFER_STATUS_CHANGED,
        "OUTBOUND_TRANSFER": EventType.DOMAIN_TRANSFER_STATUS_CHANGED,
        "TRANSIT": EventType.DOMAIN_TRANSIT,
        "WITHDRAW": EventType.DOMAIN_WITHDRAWN,
        "VERIFICATION": EventType.DOMAIN_VERIFICATION_STATUS_CHANGED,
    }[type_], _OUTCOME[subtype]


@pytest.mark.parametrize("subtype", [*Subtype, None])
@pytest.mark.parametrize("type_", list(SEED_OPERATIONS))
def test_domain_events_route_by_type_and_subtype(type_: str, subtype: str | None) -> None:
    event = _one(_event("DOMAIN", type_, subtype))
    expected_type, expected_outcome = _expected_domain_type(type_, subtype)
    assert (event.type, event.outcome) == (expected_type, expected_outcome)
    assert event.subject == event.partition_key == "example.com"
    assert event.provider_event_type == f"DOMAIN.{type_}.{subtype or '-'}"
    if expected_type is EventType.DOMAIN_OPERATION_NOTIFICATION:
        assert isinstance(event.data, DomainOperationNotification)
        assert event.data.operation == _DOMAIN_RESULT[type_][2]
    if expected_type is EventType.DOMAIN_TRANSFER_STATUS_CHANGED:
        assert isinstance(event.data, DomainTransferStatusChanged)
        assert event.data.direction == ("inbound" if type_ == "INBOUND_TRANSFER" else "outbound")


@pytest.mark.parametrize("subtype", [*Subtype, None])
@pytest.mark.parametrize("type_", [*SEED_OPERATIONS, None])
def test_contact_host_and_registry_objects_keep_the_operation(type_: str | None, subtype: str | None) -> None:
    contact = _one(_event("CONTACT", type_, subtype, object_id="contact_01h455e1yewzjmrqt7xk5g8w6f"))
    assert contact.type is EventType.CONTACT_EVENT
    assert isinstance(contact.data, ContactEvent)
    assert contact.data.contact_id == contact.partition_key == "contact_01h455e1yewzjmrqt7xk5g8w6f"
    assert contact.data.operation == (type_.lower() if type_ else None)
    assert contact.outcome is _OUTCOME[subtype]
    host = _one(_event("HOST", type_, subtype, object_id="ns1.example.com"))
    assert host.type is EventType.HOST_EVENT
    assert isinstance(host.data, HostEvent)
    assert (host.data.host_name, host.data.host_id) == ("ns1.example.com", None)
    for object_type in ("RAW", "UNKNOWN"):
        message = _one(_event(object_type, type_, subtype, object_id=None))
        assert message.type is EventType.REGISTRY_MESSAGE
        assert isinstance(message.data, RegistryMessage)
        assert message.data.object_type == object_type
        assert message.partition_key == _EVENT_ID  # no object id: keyed by the event id
        assert message.outcome is _OUTCOME[subtype]


@pytest.mark.parametrize("subtype", list(Subtype))
@pytest.mark.parametrize("type_", list(VANITY_OPERATIONS))
def test_vanity_ns_events_carry_the_new_state(type_: str, subtype: str) -> None:
    event = _one(_event("VANITY_NS_SET", type_, subtype, object_id="vanity_ns_set_01h455e1yewzjmrqt7xk5g8w6f"))
    assert event.type is EventType.VANITY_NS_STATUS_CHANGED
    assert isinstance(event.data, VanityNsStatusChanged)
    assert event.data.status == type_.removeprefix("VANITY_NS_").lower().replace("provision", "provisioned").replace(
        "suspension", "suspended"
    ).replace("restoration", "restored").replace("termination", "terminated")
    assert event.data.vanity_ns_set_id == event.partition_key
    assert event.outcome is _OUTCOME[subtype]


@pytest.mark.parametrize("subtype", [*Subtype, None])
def test_balance_is_a_low_balance_warning_whatever_the_subtype(subtype: str | None) -> None:
    event = _one(_event("ACCOUNT", "BALANCE", subtype, object_id="organization_01h455e1yewzjmrqt7xk5g8w6f"))
    assert event.type is EventType.ACCOUNT_BALANCE_LOW
    assert isinstance(event.data, AccountBalanceLow)
    assert event.outcome is Outcome.NOTIFICATION
    assert event.data.account == "organization_01h455e1yewzjmrqt7xk5g8w6f"


def test_every_generated_combination_maps_to_one_event_each() -> None:
    factory = EventFactory(random.Random(7))
    events = factory.every_combination()
    assert len(events) == len(SEED_OBJECT_TYPES) * len(SEED_OPERATIONS) * len(Subtype) + 1 + 4 * len(Subtype)
    mapped = map_record(_raw({"results": events, "pagination": {}}))
    assert [event.provider_event_id for event in mapped] == [event["event_id"] for event in events]
    assert len({event.id for event in mapped}) == len(events)


# --- fields -------------------------------------------------------------------------------------------------


def test_v1_message_error_and_renewal_details_fill_the_model() -> None:
    renewed = _one(
        _event(
            "DOMAIN",
            "RENEWAL",
            "SUCCESS",
            event_data={
                "version": "1.0",
                "message": "Domain renewed successfully",
                "details": {"detail_type": "domain_renewal", "expires_on": "2027-01-01T00:00:00"},
            },
        )
    )
    assert isinstance(renewed.data, DomainRenewed)
    assert renewed.data.expires_at == datetime(2027, 1, 1, tzinfo=UTC)  # zone-less: UTC
    assert renewed.data.message == "Domain renewed successfully"
    assert renewed.data.provider_fields == {"event_data": {"version": "1.0"}}
    failed = _one(
        _event(
            "DOMAIN",
            "OUTBOUND_TRANSFER",
            "FAILURE",
            event_data={
                "version": "1.0",
                "message": "Outbound domain transfer failed",
                "error": {"code": "ERROR_DOMAIN_TRANSFER", "detail": "Outbound transfer failed for example.com"},
            },
        )
    )
    assert failed.data.error is not None
    assert (failed.data.error.code, failed.data.error.detail) == (
        "ERROR_DOMAIN_TRANSFER",
        "Outbound transfer failed for example.com",
    )


def test_verification_details_are_modelled_and_times_normalised_to_utc() -> None:
    event = _one(
        _event(
            "DOMAIN",
            "VERIFICATION",
            "NOTIFICATION",
            object_id="example.de",
            event_data={
                "version": "1.0",
                "message": "Domain verification notification received",
                "details": {
                    "detail_type": "domain_verification",
                    "domain_id": "domain_01h455e1yewzjmrqt7xk5g8w4d",
                    "verification_deadlines": [{"type": "dedelegation", "date": "2026-05-20T13:01:05+02:00"}],
                    "verification_claims": ["address", "name"],
                    "registrants": [{"contact_id": "contact_1", "name": "Jane Doe", "email": "jane.doe@example.com"}],
                },
            },
        )
    )
    assert isinstance(event.data, DomainVerificationStatusChanged)
    assert event.data.domain == "example.de"
    assert event.data.domain_id == "domain_01h455e1yewzjmrqt7xk5g8w4d"
    assert event.data.verification_deadlines[0].date == datetime(2026, 5, 20, 11, 1, 5, tzinfo=UTC)
    assert event.data.verification_claims == ["address", "name"]
    assert event.data.registrants[0].email == "jane.doe@example.com"


def test_legacy_event_data_is_routed_by_type_and_kept_whole() -> None:
    legacy = {"name": "example.com", "result": {"code": 1000, "msg": "Command completed successfully"}}
    event = _one(
        _event("DOMAIN", "DELETION", "SUCCESS", event_id="epp_event_01h45ytscbebyvny4gc8cr8ma2", event_data=legacy)
    )
    assert event.type is EventType.DOMAIN_DELETED
    assert event.data.message is None
    assert event.data.provider_fields == {"event_data": legacy}
    assert event.provider_event_id == "epp_event_01h45ytscbebyvny4gc8cr8ma2"


_DOMAIN_ID = "domain_01h455e1yewzjmrqt7xk5g8w4d"


@pytest.mark.parametrize(
    ("object_id", "message", "domain", "domain_id"),
    [
        ("example.com", "anything", "example.com", None),
        ("EXAMPLE.com.", "anything", "example.com", None),
        ("bücher.de", "anything", "xn--bcher-kva.de", None),
        (_DOMAIN_ID, "Domain shop.example.org registered.", "shop.example.org", _DOMAIN_ID),
        (_DOMAIN_ID, "Domain registered", None, _DOMAIN_ID),
        (_DOMAIN_ID, "Moved a.com to b.com", None, _DOMAIN_ID),  # two names: ambiguous, none taken
        (_DOMAIN_ID, "Mail jane@example.com about it", None, _DOMAIN_ID),  # an address is no domain
        (_DOMAIN_ID, "Renewed for 12.50 EUR (v1.0)", None, _DOMAIN_ID),
        ("exa mple.com", "anything", None, "exa mple.com"),  # not a name: kept as the id
    ],
)
def test_domain_comes_from_object_id_else_from_the_message(
    object_id: str, message: str, domain: str | None, domain_id: str | None
) -> None:
    event = _one(_event(object_id=object_id, event_data={"version": "1.0", "message": message}))
    assert event.subject == domain
    assert event.data.domain == domain  # type: ignore[attr-defined]
    assert event.data.domain_id == domain_id  # type: ignore[attr-defined]
    assert event.partition_key == (domain or object_id)


def test_unknown_detail_types_and_fields_are_kept_and_acknowledged_on_is_not() -> None:
    document = _event(
        event_data={"version": "1.0", "message": "m", "details": {"detail_type": "new_kind", "x": 1}, "hint": "h"},
        region="eu",
    )
    acknowledged = {**document, "acknowledged_on": "2026-05-05T11:00:00Z"}
    event = _one(document)
    assert event.data.provider_fields == {
        "region": "eu",
        "event_data": {"version": "1.0", "hint": "h"},
        "details": {"detail_type": "new_kind", "x": 1},
    }
    assert _one(acknowledged) == event  # the delivery state does not change the canonical event


def test_a_type_added_later_is_kept_as_a_domain_notification() -> None:
    event = _one(_event("DOMAIN", "RESTORE", "SUCCESS"))
    assert event.type is EventType.DOMAIN_OPERATION_NOTIFICATION
    assert isinstance(event.data, DomainOperationNotification)
    assert event.data.operation == "restore"
    assert event.outcome is Outcome.NOTIFICATION
    assert event.provider_event_type == "DOMAIN.RESTORE.SUCCESS"


# --- pages --------------------------------------------------------------------------------------------------


def test_every_event_of_a_page_is_mapped_in_order_and_exact_duplicates_once() -> None:
    factory = EventFactory(random.Random(11))
    events = factory.random_events(40, legacy_share=0.2)
    page = {"results": [*events, events[3]], "pagination": {"total_items": 40}}
    mapped = map_record(_raw(page))
    assert [event.provider_event_id for event in mapped] == [event["event_id"] for event in events]


def test_empty_page_maps_to_nothing() -> None:
    assert map_record(_raw({"results": [], "pagination": {}})) == []


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b"\xff\xfe not json", QuarantineReason.INVALID_JSON),
        (b'{"results": [', QuarantineReason.INVALID_JSON),
        ([1, 2], QuarantineReason.INVALID_JSON),
        ({"hello": "world"}, QuarantineReason.SCHEMA_VIOLATION),
        ({"results": "nope"}, QuarantineReason.SCHEMA_VIOLATION),
        ({"results": [42]}, QuarantineReason.SCHEMA_VIOLATION),
        ({"results": [{**_event(), "event_id": "event_123"}]}, QuarantineReason.SCHEMA_VIOLATION),
        ({"results": [{**_event(), "created_on": None}]}, QuarantineReason.SCHEMA_VIOLATION),
        ({"results": [{**_event(), "event_data": {"version": "1.0"}}]}, QuarantineReason.SCHEMA_VIOLATION),
        ({"results": [_event(object_id=None)]}, QuarantineReason.SCHEMA_VIOLATION),
        ({"results": [_event("ZONE", "MODIFICATION", "SUCCESS")]}, QuarantineReason.UNKNOWN_EVENT_TYPE),
    ],
)
def test_unmappable_records_raise_mapping_error(document: Any, reason: QuarantineReason) -> None:
    assert _reason(document) is reason


# --- determinism and fuzzing ----------------------------------------------------------------------------------


def test_ids_are_deterministic_across_pages_and_deliveries() -> None:
    factory = EventFactory(random.Random(3))
    events = factory.random_events(10)
    first = map_record(
        _raw({"results": events[:6], "pagination": {}}, lineage=Lineage(topic="t", partition=0, offset=1))
    )
    second = map_record(_raw({"results": events[4:], "pagination": {}}))
    single = map_record(_raw(events[5]))
    by_provider_id = {event.provider_event_id: event.id for event in first}
    for event in [*second, *single]:
        if event.provider_event_id in by_provider_id:
            assert event.id == by_provider_id[event.provider_event_id]
    assert len({event.id for event in first}) == len(first)


def test_zone_less_and_rfc3339_bodies_map_to_the_same_events() -> None:
    events = EventFactory(random.Random(5)).random_events(30, legacy_share=0.1)
    zone_less = orjson.dumps({"results": _zone_less(events), "pagination": {}})
    rfc3339 = orjson.dumps({"results": events, "pagination": {}})
    assert b'+00:00"' not in zone_less
    assert b'+00:00"' in rfc3339
    assert map_record(_raw(zone_less)) == map_record(_raw(rfc3339))


_FUZZ_BODIES = [case.body() for case in CASES]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=mutated_bodies(_FUZZ_BODIES))
def test_fuzzed_bodies_map_or_raise_mapping_error(body: bytes) -> None:
    try:
        events = map_record(_raw(body))
    except MappingError:
        return
    for event in events:
        CanonicalEvent.model_validate(event.model_dump(mode="json"))  # what lands on Kafka reads back


@settings(max_examples=100, deadline=None)
@given(
    object_type=st.sampled_from(["DOMAIN", "CONTACT", "HOST", "RAW", "UNKNOWN", "ACCOUNT", "VANITY_NS_SET"]),
    type_=st.sampled_from([*Operation, None, "SOMETHING_NEW"]),
    subtype=st.sampled_from([*Subtype, None, "PARTIAL"]),
    object_id=st.one_of(
        st.none(), st.sampled_from(["example.com", "domain_01h455e1yewzjmrqt7xk5g8w4d", ""]), st.text()
    ),
    message=st.text(),
)
def test_any_known_object_type_maps(
    object_type: str, type_: str | None, subtype: str | None, object_id: str | None, message: str
) -> None:
    data = {"version": "1.0", "message": message}
    document = _event(object_type, type_, subtype, object_id=object_id, event_data=data)
    # Only a domain event that names no domain at all may be refused.
    refusable = object_type == "DOMAIN" and type_ not in (Operation.BALANCE, *VANITY_OPERATIONS)
    try:
        (event,) = map_record(_raw(document))
    except MappingError as exc:
        reason: QuarantineReason | None = exc.reason
    else:
        reason = None
        assert event.provider_event_id == _EVENT_ID
    assert reason is None or (refusable and reason is QuarantineReason.SCHEMA_VIOLATION)


@pytest.mark.parametrize("depth", [70, 300, 1000])
def test_deeply_nested_fields_are_quarantined_as_nesting_too_deep(depth: int) -> None:
    nest = "[" * depth + "]" * depth
    body = orjson.dumps(_event()).replace(b'"acknowledged_on"', f'"x": {nest}, "acknowledged_on"'.encode())
    with pytest.raises(MappingError) as raised:
        map_record(_raw(body))
    assert raised.value.reason is QuarantineReason.NESTING_TOO_DEEP


def test_error_texts_never_quote_payload_values() -> None:
    marker = "Zq9!secret-marker"
    with pytest.raises(MappingError) as raised:
        map_record(_raw(_event(object_type=marker)))
    assert raised.value.reason is QuarantineReason.UNKNOWN_EVENT_TYPE
    assert marker not in str(raised.value)


@pytest.mark.parametrize("value", [253402300799, 1700000000])
def test_numeric_times_are_refused_where_the_contract_says_iso_8601(value: int) -> None:
    # OpusDNS documents ISO 8601 datetimes; a number is not read by its size (253402300799 became 1978).
    with pytest.raises(MappingError) as raised:
        map_record(_raw(_event() | {"created_on": value}))
    assert raised.value.reason is QuarantineReason.SCHEMA_VIOLATION
