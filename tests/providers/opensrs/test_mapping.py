"""The OpenSRS mapper: golden fixtures (the seed's poll reply and e-mails), every event type and outcome, the same
event by poll and by e-mail, and fuzzed input (every body maps or raises MappingError)."""

from __future__ import annotations

import copy
import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regpipe.contract.cloudevents import from_kafka_record, to_kafka_record
from regpipe.contract.envelope import CanonicalEvent, Lineage
from regpipe.contract.events import (
    AccountMessage,
    DomainNameserversUpdated,
    DomainRegistered,
    DomainTransferStatusChanged,
    OrderStatusChanged,
)
from regpipe.contract.raw import RawHeaders
from regpipe.contract.taxonomy import EventType, Outcome, Source, Transport
from regpipe.providers.mapper import MappingError, QuarantineReason, RawInput
from regpipe.providers.opensrs.envelope import OpsValue, decode_envelope, encode_envelope
from regpipe.providers.opensrs.mapping import MAPPER_VERSION, map_event_object, map_record
from regpipe.providers.opensrs.payloads import KNOWN_EVENTS
from regpipe.providers.opensrs.protocol import as_ops_value, encode_reply
from regpipe.simulators.opensrs.events import generate_event, generate_events
from tests.golden._golden import GOLDEN_ROOT, GoldenCase, case_id, check_golden, golden_cases
from tests.golden._mutations import json_values

CASES = golden_cases(GOLDEN_ROOT / "opensrs")
_RECEIVED = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
_WHEN = datetime(2025, 1, 6, 9, 30, tzinfo=UTC)

CANONICAL_TYPES = {
    ("DOMAIN", "CREATED"): EventType.DOMAIN_CREATED,
    ("DOMAIN", "REGISTERED"): EventType.DOMAIN_REGISTERED,
    ("DOMAIN", "RENEWED"): EventType.DOMAIN_RENEWED,
    ("DOMAIN", "EXPIRED"): EventType.DOMAIN_EXPIRED,
    ("DOMAIN", "DELETED"): EventType.DOMAIN_DELETED,
    ("DOMAIN", "NAMESERVER_UPDATE"): EventType.DOMAIN_NAMESERVERS_UPDATED,
    ("DOMAIN", "ZONE_CHECK_STATUS_CHANGE"): EventType.DOMAIN_ZONE_CHECK_STATUS_CHANGED,
    ("DOMAIN", "REGISTRANT_VERIFICATION_STATUS_CHANGE"): EventType.DOMAIN_VERIFICATION_STATUS_CHANGED,
    ("DOMAIN", "ICANN_TRADE_STATUS_CHANGE"): EventType.DOMAIN_REGISTRANT_CHANGE_STATUS_CHANGED,
    ("DOMAIN", "MESSAGE_STATUS_CHANGE"): EventType.ACCOUNT_MESSAGE,
    ("ORDER", "STATUS_CHANGE"): EventType.ORDER_STATUS_CHANGED,
    ("ORDER", "CLAIM_STATUS_CHANGE"): EventType.ORDER_CLAIM_STATUS_CHANGED,
    ("TRANSFER", "STATUS_CHANGE"): EventType.DOMAIN_TRANSFER_STATUS_CHANGED,
}


def _headers(transport: Transport) -> RawHeaders:
    content_type = "text/xml" if transport is Transport.POLL else "message/rfc822"
    return RawHeaders(source=Source.OPENSRS, transport=transport, received_at=_RECEIVED, content_type=content_type)


def _poll_body(*events: dict[str, Any], success: bool = True) -> bytes:
    return encode_reply(
        is_success=success,
        response_code=200 if success else 400,
        response_text="Command successful" if success else "Internal error",
        attributes={"events": [as_ops_value(event) for event in events]},
    )


def _email_body(event: dict[str, Any]) -> bytes:
    subject = f"Event notification: {event['object']}: {event['event']}: {event['event_id']}"
    return (
        f"From: OpenSRS <notify@reseller-mail.example>\r\nTo: tech@reseller.example\r\nSubject: {subject}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
        "An event happened on your account:\r\n\r\n"
    ).encode() + json.dumps(event).encode()  # not orjson: e-mails may carry integers beyond 64 bits


def _poll(*events: dict[str, Any]) -> list[CanonicalEvent]:
    return map_record(RawInput(body=_poll_body(*events), headers=_headers(Transport.POLL)))


def _one(event: dict[str, Any]) -> CanonicalEvent:
    (mapped,) = _poll(event)
    return mapped


def _event(object_name: str, event: str, **object_data: Any) -> dict[str, Any]:
    generated = generate_event(random.Random(0), object_name, event, _WHEN)
    generated["object_data"].update(object_data)
    return generated


def _reason(body: bytes, transport: Transport = Transport.POLL) -> QuarantineReason:
    with pytest.raises(MappingError) as raised:
        map_record(RawInput(body=body, headers=_headers(transport)))
    return raised.value.reason


# -- golden fixtures ----------------------------------------------------------------------------------------------


def test_there_are_golden_cases_for_every_seed_example() -> None:
    names = {case.name for case in CASES}
    assert {
        "seed_poll_response",
        "seed_email_domain_created",
        "seed_email_transfer_status_change",
        "seed_email_nameserver_update",
    } <= names


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_golden(case: GoldenCase) -> None:
    events = check_golden(case, map_record)
    for event in events:
        assert event.mapper_version == MAPPER_VERSION
        assert event.lineage == case.raw_input().lineage
        assert from_kafka_record(to_kafka_record(event).value, to_kafka_record(event).headers) == event


def test_seed_poll_reply_maps_to_a_failed_zone_check() -> None:
    (event,) = map_record(next(case for case in CASES if case.name == "seed_poll_response").raw_input())
    assert (event.type, event.outcome, event.subject) == (
        EventType.DOMAIN_ZONE_CHECK_STATUS_CHANGED,
        Outcome.FAILURE,
        "abc-fictional.de",
    )
    assert event.provider_event_type == "DOMAIN.ZONE_CHECK_STATUS_CHANGE"
    assert event.time == datetime(2014, 5, 27, 19, 29, 25, tzinfo=UTC)


def test_seed_emails_and_the_same_events_by_poll_have_the_same_ids() -> None:
    by_case = {case.name: case for case in CASES}
    emailed = [
        map_record(by_case[name].raw_input())[0]
        for name in (
            "seed_email_domain_created",
            "seed_email_transfer_status_change",
            "seed_email_nameserver_update",
        )
    ]
    polled = map_record(by_case["poll_seed_email_events"].raw_input())
    assert [event.id for event in emailed] == [event.id for event in polled]
    assert [event.transport for event in emailed] == [Transport.EMAIL] * 3
    assert [event.transport for event in polled] == [Transport.POLL] * 3
    transfer = emailed[1].data
    assert isinstance(transfer, DomainTransferStatusChanged)
    assert transfer.order_id is None  # the e-mail's number 0 means "no order"
    assert emailed[2].data == polled[2].data


# -- every event type -----------------------------------------------------------------------------------------------


def test_every_known_event_has_a_canonical_type() -> None:
    assert set(CANONICAL_TYPES) == set(KNOWN_EVENTS)
    for (object_name, event_name), canonical in CANONICAL_TYPES.items():
        mapped = _one(_event(object_name, event_name))
        assert mapped.type is canonical
        assert mapped.provider_event_type == f"{object_name}.{event_name}"
        # Every documented field has a home in the model; AccountMessage has no domain_id, so it is kept aside.
        unmodelled = {"domain_id"} if canonical is EventType.ACCOUNT_MESSAGE else set()
        assert set(mapped.data.provider_fields) == unmodelled


def test_domain_lifecycle_fields() -> None:
    registered = _one(_event("DOMAIN", "REGISTERED", expiration_date="2027-04-01T04:00:00Z", period=2))
    assert isinstance(registered.data, DomainRegistered)
    assert registered.data.expires_at == datetime(2027, 4, 1, 4, tzinfo=UTC)
    assert registered.data.period_years == 2
    assert registered.outcome is Outcome.SUCCESS
    deleted = _one(
        _event(
            "DOMAIN",
            "DELETED",
            reason="by-request",
            deletion_date="2025-01-06T09:30:00Z",
            redemption_grace_period_end_date="2025-02-05T09:30:00Z",
        )
    )
    assert deleted.data.model_dump(include={"reason", "deleted_at", "redemption_grace_period_ends_at"}) == {
        "reason": "by-request",
        "deleted_at": datetime(2025, 1, 6, 9, 30, tzinfo=UTC),
        "redemption_grace_period_ends_at": datetime(2025, 2, 5, 9, 30, tzinfo=UTC),
    }
    expired = _one(_event("DOMAIN", "EXPIRED"))
    assert expired.outcome is Outcome.NOTIFICATION
    nameservers = _one(_event("DOMAIN", "NAMESERVER_UPDATE", nameserver_list=["NS1.Example.NET.", "ns2.example.net"]))
    assert isinstance(nameservers.data, DomainNameserversUpdated)
    assert nameservers.data.nameservers == ["ns1.example.net", "ns2.example.net"]


@pytest.mark.parametrize(
    ("object_name", "event_name", "field", "value", "outcome"),
    [
        ("DOMAIN", "ZONE_CHECK_STATUS_CHANGE", "zone_check_status", "valid", Outcome.SUCCESS),
        ("DOMAIN", "ZONE_CHECK_STATUS_CHANGE", "zone_check_status", "invalid", Outcome.FAILURE),
        ("DOMAIN", "ZONE_CHECK_STATUS_CHANGE", "zone_check_status", "pending", Outcome.NOTIFICATION),
        ("DOMAIN", "REGISTRANT_VERIFICATION_STATUS_CHANGE", "verification_status", "verified", Outcome.SUCCESS),
        ("DOMAIN", "REGISTRANT_VERIFICATION_STATUS_CHANGE", "verification_status", "suspended", Outcome.FAILURE),
        ("DOMAIN", "REGISTRANT_VERIFICATION_STATUS_CHANGE", "verification_status", "bounced", Outcome.FAILURE),
        ("DOMAIN", "REGISTRANT_VERIFICATION_STATUS_CHANGE", "verification_status", "verifying", Outcome.NOTIFICATION),
        ("ORDER", "STATUS_CHANGE", "order_status", "completed", Outcome.SUCCESS),
        ("ORDER", "STATUS_CHANGE", "order_status", "processed", Outcome.SUCCESS),
        ("ORDER", "STATUS_CHANGE", "order_status", "declined", Outcome.FAILURE),
        ("ORDER", "STATUS_CHANGE", "order_status", "cancelled", Outcome.CANCELED),
        ("ORDER", "STATUS_CHANGE", "order_status", "pending_fax", Outcome.NOTIFICATION),
        ("ORDER", "CLAIM_STATUS_CHANGE", "claim_status", "accepted", Outcome.SUCCESS),
        ("ORDER", "CLAIM_STATUS_CHANGE", "claim_status", "declined", Outcome.FAILURE),
        ("ORDER", "CLAIM_STATUS_CHANGE", "claim_status", "cancelled", Outcome.CANCELED),
        ("ORDER", "CLAIM_STATUS_CHANGE", "claim_status", "initiated", Outcome.NOTIFICATION),
        ("TRANSFER", "STATUS_CHANGE", "transfer_status", "completed", Outcome.SUCCESS),
        ("TRANSFER", "STATUS_CHANGE", "transfer_status", "cancelled", Outcome.CANCELED),
        ("TRANSFER", "STATUS_CHANGE", "transfer_status", "pending_registry", Outcome.NOTIFICATION),
        ("TRANSFER", "STATUS_CHANGE", "transfer_status", "a_new_state", Outcome.NOTIFICATION),
    ],
)
def test_status_values_give_outcomes_and_are_copied_as_sent(
    object_name: str, event_name: str, field: str, value: str, outcome: Outcome
) -> None:
    event = _event(object_name, event_name)
    event["object_data"][field] = value
    mapped = _one(event)
    assert mapped.outcome is outcome
    assert getattr(mapped.data, field) == value


def test_order_events_carry_order_id_and_reg_type_and_fall_back_to_the_order_id_as_key() -> None:
    event = _event("ORDER", "STATUS_CHANGE", order_id="3141592", order_reg_type="premium")
    mapped = _one(event)
    assert isinstance(mapped.data, OrderStatusChanged)
    assert (mapped.data.order_id, mapped.data.order_reg_type) == ("3141592", "premium")
    assert mapped.partition_key == mapped.subject == mapped.data.domain
    del event["object_data"]["domain_name"]
    keyed = _one(event)
    assert keyed.partition_key == "3141592"
    assert keyed.subject is None


def test_trade_and_message_events() -> None:
    trade = _one(_event("DOMAIN", "ICANN_TRADE_STATUS_CHANGE", trade_status="pending_new_registrant"))
    assert trade.outcome is Outcome.NOTIFICATION
    assert trade.data.model_dump()["status"] == "pending_new_registrant"
    message = _event(
        "DOMAIN",
        "MESSAGE_STATUS_CHANGE",
        message_type="reseller.renewal.reminder",
        message_status="sent",
        to_address="Jane@Example.com",
    )
    mapped = _one(message)
    assert isinstance(mapped.data, AccountMessage)
    assert (mapped.data.message_type, mapped.data.status, mapped.data.recipient) == (
        "reseller.renewal.reminder",
        "sent",
        "Jane@Example.com",
    )
    message["object"] = "MESSAGE"  # its OBJECT is undocumented: any object maps the same way
    del message["object_data"]["domain_name"]
    anywhere = _one(message)
    assert anywhere.type is EventType.ACCOUNT_MESSAGE
    assert anywhere.partition_key == message["event_id"]


def test_unknown_fields_are_kept_and_ids_are_stable() -> None:
    event = _event("DOMAIN", "CREATED", registry_lock={"enabled": "1"}, note="hello")
    event["extra_top_level"] = "kept too"
    mapped = _one(event)
    assert mapped.data.provider_fields == {
        "registry_lock": {"enabled": "1"},
        "note": "hello",
        "envelope": {"extra_top_level": "kept too"},
    }
    assert _one(event).id == mapped.id


def test_a_poll_reply_maps_every_event_in_order_with_distinct_ids() -> None:
    events = generate_events(random.Random(8), 40)
    mapped = _poll(*events)
    assert [event.provider_event_id for event in mapped] == [event["event_id"] for event in events]
    assert len({event.id for event in mapped}) == 40


def test_lineage_is_carried() -> None:
    lineage = Lineage(topic="registrar.raw.v1", partition=2, offset=99)
    raw = RawInput(body=_poll_body(_event("DOMAIN", "CREATED")), headers=_headers(Transport.POLL), lineage=lineage)
    assert map_record(raw)[0].lineage == lineage


@pytest.mark.parametrize("seed", range(10))
def test_every_event_type_by_email_and_by_poll_is_the_same_canonical_event(seed: int) -> None:
    for event in generate_events(random.Random(seed), 30):
        (by_mail,) = map_record(RawInput(body=_email_body(event), headers=_headers(Transport.EMAIL)))
        by_poll = _one(event)
        assert by_mail.id == by_poll.id
        assert by_mail.model_dump(exclude={"transport"}) == by_poll.model_dump(exclude={"transport"})


def test_map_event_object_is_the_shared_entry_point() -> None:
    event = _event("DOMAIN", "RENEWED", period=3)
    direct = map_event_object(event, RawInput(body=b"", headers=_headers(Transport.EMAIL)))
    assert direct.id == _one(event).id


# -- what cannot be mapped --------------------------------------------------------------------------------------------


def test_unmappable_records() -> None:
    assert _reason(b"not xml") is QuarantineReason.INVALID_XML
    assert _reason(_poll_body(_event("DOMAIN", "CREATED"), success=False)) is QuarantineReason.PROVIDER_ERROR
    assert _reason(_poll_body({**_event("DOMAIN", "CREATED"), "event": "VANISHED"})) is (
        QuarantineReason.UNKNOWN_EVENT_TYPE
    )
    assert _reason(_poll_body(_event("DOMAIN", "CREATED", domain_name="a b c"))) is QuarantineReason.INVALID_DOMAIN
    assert _reason(_poll_body(_event("DOMAIN", "RENEWED", period="two"))) is QuarantineReason.SCHEMA_VIOLATION
    assert _reason(_poll_body(_event("DOMAIN", "RENEWED", period="-1"))) is QuarantineReason.SCHEMA_VIOLATION
    huge = _event("DOMAIN", "RENEWED", period=10**30)
    with pytest.raises(MappingError) as raised:
        map_record(RawInput(body=_email_body(huge), headers=_headers(Transport.EMAIL)))
    assert raised.value.reason is QuarantineReason.SCHEMA_VIOLATION
    assert _reason(_poll_body(_event("DOMAIN", "CREATED", expiration_date="soon"))) is (
        QuarantineReason.SCHEMA_VIOLATION
    )
    no_domain = _event("DOMAIN", "EXPIRED")
    no_domain["object_data"] = {}
    assert _reason(_poll_body(no_domain)) is QuarantineReason.SCHEMA_VIOLATION
    no_id = _event("DOMAIN", "CREATED")
    del no_id["event_id"]
    assert _reason(_poll_body(no_id)) is QuarantineReason.SCHEMA_VIOLATION
    events_not_a_list = encode_reply(
        is_success=True, response_code=200, response_text="ok", attributes={"events": "none"}
    )
    assert _reason(events_not_a_list) is QuarantineReason.SCHEMA_VIOLATION
    assert _reason(b"From: x\r\nSubject: hello\r\n\r\nno json", Transport.EMAIL) is QuarantineReason.INVALID_EMAIL
    webhook = RawInput(body=_poll_body(), headers=RawHeaders(source=Source.OPENSRS, transport=Transport.WEBHOOK))
    with pytest.raises(MappingError) as raised:
        map_record(webhook)
    assert raised.value.reason is QuarantineReason.INVALID_HEADERS


# -- fuzzing -----------------------------------------------------------------------------------------------------------

# Text XML can carry (the envelope refuses control characters and surrogates on encode).
_TEXT = st.text(st.characters(exclude_categories=["Cc", "Cs"], exclude_characters=["\ufffe", "\uffff"]), max_size=12)
_SCALARS = st.none() | _TEXT | st.sampled_from(["", "0", "2026-13-45T99:99:99Z", "bad domain!", "xn--", "ü" * 70])
_OPS_VALUES: st.SearchStrategy[OpsValue] = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_TEXT, children, max_size=3),
    max_leaves=6,
)
# The well-formed poll replies among the golden inputs, as values to mutate.
_DOCUMENTS = [
    decode_envelope(case.body())
    for case in CASES
    if case.input_path.suffix == ".xml" and case.name not in ("error_not_xml", "error_xxe")
]


def _paths(value: OpsValue, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


@st.composite
def _mutated_replies(draw: st.DrawFn) -> bytes:
    document = copy.deepcopy(draw(st.sampled_from(_DOCUMENTS)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(_paths(document)))
        if not path:
            continue
        parent: Any = document
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(_OPS_VALUES)
    return encode_envelope(document)


_BODIES = [case.body() for case in CASES]
_truncated = st.sampled_from(_BODIES).flatmap(
    lambda body: st.integers(min_value=0, max_value=max(len(body) - 1, 0)).map(lambda cut: body[:cut])
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.one_of(_mutated_replies(), _truncated, st.binary(max_size=200)),
    transport=st.sampled_from([Transport.POLL, Transport.EMAIL]),
)
def test_any_body_maps_or_raises_mapping_error(body: bytes, transport: Transport) -> None:
    try:
        events = map_record(RawInput(body=body, headers=_headers(transport)))
    except MappingError:
        return
    for event in events:
        assert event.source is Source.OPENSRS
        to_kafka_record(event)  # what the normalizer publishes must encode


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6), st.sampled_from(KNOWN_EVENTS), json_values)
def test_any_event_object_maps_or_raises_mapping_error(
    object_data: dict[str, Any], kind: tuple[str, str], event_date: Any
) -> None:
    # What an e-mail can carry: any JSON, of any type, where OpenSRS writes text.
    event = {"object_data": object_data, "object": kind[0], "event_id": "e" * 32, "event": kind[1]}
    event["event_date"] = event_date
    try:
        mapped = map_event_object(event, RawInput(body=b"", headers=_headers(Transport.EMAIL)))
    except MappingError:
        return
    to_kafka_record(mapped)


# -- hostile shapes (issue 12) ------------------------------------------------------------------------------------


def test_an_integer_of_thousands_of_digits_in_an_email_is_number_too_large() -> None:
    event = _event("DOMAIN", "CREATED")
    body = _email_body(event).replace(b'"object_data": {', b'"object_data": {"n": 1' + b"0" * 5000 + b", ")
    assert _reason(body, Transport.EMAIL) is QuarantineReason.NUMBER_TOO_LARGE


@pytest.mark.parametrize("depth", [70, 300, 900])
def test_deeply_nested_fields_in_an_email_are_nesting_too_deep(depth: int) -> None:
    event = _event("DOMAIN", "CREATED")
    nest = b"[" * depth + b"]" * depth
    body = _email_body(event).replace(b'"object_data": {', b'"object_data": {"n": ' + nest + b", ")
    assert _reason(body, Transport.EMAIL) is QuarantineReason.NESTING_TOO_DEEP


def test_error_texts_never_quote_payload_values() -> None:
    marker = "Zq9-secret-marker"
    unknown = _event("DOMAIN", "CREATED") | {"event": marker}
    failed = encode_reply(is_success=False, response_code=465, response_text=f"bad auth code {marker}", attributes={})
    for body in (_poll_body(unknown), failed):
        with pytest.raises(MappingError) as raised:
            map_record(RawInput(body=body, headers=_headers(Transport.POLL)))
        assert marker not in str(raised.value)


@pytest.mark.parametrize("name", ["a.com\r\nX: 1", "https://a.com/", "a..com", "y" * 300 + ".com", "a.com/x"])
def test_ascii_names_that_are_not_domains_are_invalid_domain(name: str) -> None:
    body = _poll_body(_event("DOMAIN", "CREATED", domain_name=name))
    assert _reason(body) is QuarantineReason.INVALID_DOMAIN
