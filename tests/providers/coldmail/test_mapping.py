"""The Cold Mail Reseller mapper: golden fixtures (the seed's examples verbatim), every mapping branch, credentials
never published, determinism and fuzzed input."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings

from regpipe.contract.cloudevents import to_kafka_record
from regpipe.contract.envelope import CanonicalEvent
from regpipe.contract.events import (
    DomainRegistered,
    DomainRenewalFailed,
    MailboxCreated,
    MailboxUpdated,
    PrewarmupOrderSucceeded,
    SubscriptionRenewed,
)
from regpipe.contract.ids import content_fingerprint
from regpipe.contract.raw import RawHeaders
from regpipe.contract.taxonomy import EventType, Outcome, Source, Transport
from regpipe.providers.coldmail.mapping import MAPPER_VERSION, map_record
from regpipe.providers.mapper import MappingError, QuarantineReason, RawInput
from tests.golden._golden import GOLDEN_ROOT, GoldenCase, case_id, check_golden, golden_cases, secret_values
from tests.golden._mutations import mutated_bodies

CASES = golden_cases(GOLDEN_ROOT / "coldmail")
_RECEIVED = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
_USER = {"userId": "U1", "userEmail": "owner@company.com"}


def _raw(document: Any) -> RawInput:
    body = document if isinstance(document, bytes) else orjson.dumps(document)
    return RawInput(
        body=body, headers=RawHeaders(source=Source.COLDMAIL, transport=Transport.WEBHOOK, received_at=_RECEIVED)
    )


def _map(event: str, data: Any, event_id: str = "EID") -> CanonicalEvent:
    [mapped] = map_record(_raw({"event": event, "eventId": event_id, "data": data}))
    return mapped


# --- golden fixtures -----------------------------------------------------------------------------------------


def test_there_are_golden_cases_for_every_provider_event_type() -> None:
    events = {orjson.loads(case.body()).get("event") for case in CASES if not case.name.startswith("error_")}
    assert events == {
        "domain.order.success",
        "domain.order.failed",
        "domain.renewal.success",
        "domain.renewal.failed",
        "mailbox.order.success",
        "mailbox.order.failed",
        "mailbox.created",
        "mailbox.updated",
        "subscription.renewing",
        "subscription.renewal.success",
        "subscription.renewal.failed",
        "prewarmup.order.success",
        "prewarmup.order.failed",
    }


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_golden(case: GoldenCase) -> None:
    for event in check_golden(case, map_record):
        assert event.mapper_version == MAPPER_VERSION
        assert event.source is Source.COLDMAIL


def test_the_seed_examples_share_one_event_id_but_get_distinct_canonical_ids() -> None:
    seeds = [case for case in CASES if case.name.startswith("seed_")]
    assert len(seeds) == 4
    events = [event for case in seeds for event in map_record(case.raw_input())]
    assert {event.provider_event_id for event in events} == {"6SSHBXWR3N4JEKGRQSG3KW3D76N6"}
    assert len({event.id for event in events}) == 4


# --- each provider type --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "data", "expected", "outcome"),
    [
        ("domain.order.success", {"domainName": "a.com"}, EventType.DOMAIN_REGISTERED, Outcome.SUCCESS),
        ("domain.order.failed", {"domainName": "a.com"}, EventType.DOMAIN_REGISTRATION_FAILED, Outcome.FAILURE),
        ("domain.renewal.success", {"domainName": "a.com"}, EventType.DOMAIN_RENEWED, Outcome.SUCCESS),
        ("domain.renewal.failed", {"domainName": "a.com"}, EventType.DOMAIN_RENEWAL_FAILED, Outcome.FAILURE),
        ("mailbox.order.success", {"domainName": "a.com"}, EventType.MAILBOX_ORDER_SUCCEEDED, Outcome.SUCCESS),
        ("mailbox.order.failed", {"domainName": "a.com"}, EventType.MAILBOX_ORDER_FAILED, Outcome.FAILURE),
        ("mailbox.created", {"email": "x@a.com"}, EventType.MAILBOX_CREATED, Outcome.SUCCESS),
        ("mailbox.updated", {"email": "x@a.com"}, EventType.MAILBOX_UPDATED, Outcome.SUCCESS),
        ("subscription.renewing", {"domain": "a.com"}, EventType.SUBSCRIPTION_RENEWING, Outcome.NOTIFICATION),
        ("subscription.renewal.success", {"domain": "a.com"}, EventType.SUBSCRIPTION_RENEWED, Outcome.SUCCESS),
        ("subscription.renewal.failed", {"domain": "a.com"}, EventType.SUBSCRIPTION_RENEWAL_FAILED, Outcome.FAILURE),
    ],
)
def test_domain_scoped_types_map_and_are_keyed_by_domain(
    event: str, data: dict[str, Any], expected: EventType, outcome: Outcome
) -> None:
    mapped = _map(event, {**_USER, **data})
    assert (mapped.type, mapped.outcome) == (expected, outcome)
    assert mapped.subject == mapped.partition_key == "a.com"
    assert mapped.provider_event_type == event
    user = mapped.data.model_dump()["user"]
    assert user == {"user_id": "U1", "email": "owner@company.com"}


@pytest.mark.parametrize(
    ("event", "expected", "outcome"),
    [
        ("prewarmup.order.success", EventType.PREWARMUP_ORDER_SUCCEEDED, Outcome.SUCCESS),
        ("prewarmup.order.failed", EventType.PREWARMUP_ORDER_FAILED, Outcome.FAILURE),
    ],
)
def test_prewarmup_orders_are_keyed_by_order(event: str, expected: EventType, outcome: Outcome) -> None:
    mapped = _map(event, {"orderId": "PWO1", "serviceProvider": "MICROSOFT"})
    assert (mapped.type, mapped.outcome, mapped.partition_key, mapped.subject) == (expected, outcome, "PWO1", None)


def test_domain_order_success_fields_and_time() -> None:
    mapped = _map(
        "domain.order.success",
        {
            **_USER,
            "domainName": "A.com",
            "domainId": "D1",
            "orderId": "O1",
            "price": 15.88,
            "creationTime": "2024-03-08T23:59:59Z",
            "expiryDate": "2025-03-08T23:59:59Z",
            "coupon": "SPRING",
        },
    )
    assert isinstance(mapped.data, DomainRegistered)
    assert mapped.data.price == Decimal("15.88")
    assert mapped.data.registered_at == mapped.time == datetime(2024, 3, 8, 23, 59, 59, tzinfo=UTC)
    assert mapped.data.expires_at == datetime(2025, 3, 8, 23, 59, 59, tzinfo=UTC)
    assert (mapped.data.domain, mapped.data.domain_id, mapped.data.order_id) == ("a.com", "D1", "O1")
    assert mapped.data.provider_fields == {"coupon": "SPRING"}


def test_events_without_a_time_use_the_receive_time() -> None:
    assert _map("domain.renewal.success", {"domainName": "a.com"}).time == _RECEIVED
    assert _map("subscription.renewing", {"domain": "a.com", "periodStart": "2024-01-01T00:00:00Z"}).time == _RECEIVED


def test_subscription_renewal_time_is_the_new_period_start() -> None:
    mapped = _map(
        "subscription.renewal.success", {"domain": "a.com", "periodStart": "2024-04-09T00:10:12", "autoRenew": True}
    )
    assert isinstance(mapped.data, SubscriptionRenewed)
    assert mapped.time == mapped.data.period_start == datetime(2024, 4, 9, 0, 10, 12, tzinfo=UTC)
    assert mapped.data.auto_renew is True


def test_renewal_failure_error_text_becomes_the_error_detail() -> None:
    mapped = _map("domain.renewal.failed", {"domainName": "a.com", "years": 1, "error": "Registrar said no"})
    assert isinstance(mapped.data, DomainRenewalFailed)
    assert mapped.data.error is not None
    assert mapped.data.error.detail == "Registrar said no"
    assert mapped.data.period_years == 1


def test_failure_message_is_kept() -> None:
    mapped = _map("domain.order.failed", {"domainName": "a.com", "message": "Domain unavailable"})
    assert mapped.data.message == "Domain unavailable"


def test_mailbox_domain_falls_back_to_the_address_domain() -> None:
    mapped = _map("mailbox.updated", {"email": "x@Sub.Company.COM", "updatedTime": "2024-03-15T08:00:00Z"})
    assert isinstance(mapped.data, MailboxUpdated)
    assert mapped.partition_key == "sub.company.com"
    assert mapped.time == mapped.data.updated_at == datetime(2024, 3, 15, 8, tzinfo=UTC)


def test_mailbox_credentials_are_withheld_and_flagged() -> None:
    data = {
        "email": "x@a.com",
        "password": "P4ss!",
        "appPassword": "ap pw",
        "authenticatorSecret": "JBSW",
    }
    mapped = _map("mailbox.created", data)
    assert isinstance(mapped.data, MailboxCreated)
    assert mapped.data.credentials_withheld is True
    assert mapped.data.provider_fields == {}  # an event with credentials keeps modelled fields only
    clean = _map("mailbox.created", {"email": "x@a.com"})
    assert isinstance(clean.data, MailboxCreated)
    assert clean.data.credentials_withheld is False


def test_prewarmup_mailboxes_are_flattened_with_their_domain_and_without_credentials() -> None:
    data = {
        "orderId": "PWO1",
        "mailboxDetails": [
            {
                "domain": "A.com",
                "subscriptionId": "S1",
                "preWarmedUpMailboxes": [
                    {"email": "p@a.com", "password": "x1", "isAdmin": True, "warmingUpFrom": "2024-01-01"},
                    {"email": "q@a.com", "authenticatorSecret": "y2"},
                ],
            },
            {"preWarmedUpMailboxes": [{"email": "r@b.org"}]},
        ],
    }
    mapped = _map("prewarmup.order.success", data)
    assert isinstance(mapped.data, PrewarmupOrderSucceeded)
    boxes = mapped.data.mailboxes
    assert [(b.email, b.domain, b.subscription_id, b.credentials_withheld) for b in boxes] == [
        ("p@a.com", "a.com", "S1", True),
        ("q@a.com", "a.com", "S1", True),
        ("r@b.org", "b.org", None, False),
    ]
    assert boxes[0].warming_up_from == "2024-01-01"
    assert boxes[1].provider_fields == {}
    assert mapped.data.provider_fields == {}  # an event with credentials keeps modelled fields only


def test_envelope_without_id_uses_the_body_fingerprint() -> None:
    body = orjson.dumps({"event": "domain.renewal.success", "data": {"domainName": "a.com"}})
    [mapped] = map_record(_raw(body))
    assert mapped.provider_event_id == content_fingerprint(body)


def test_unknown_envelope_fields_are_kept_without_secrets() -> None:
    body = {
        "event": "domain.renewal.success",
        "eventId": "E",
        "data": {"domainName": "a.com"},
        "attempt": 2,
        "signingSecret": "s",
    }
    [mapped] = map_record(_raw(body))
    assert mapped.data.provider_fields == {"envelope": {"attempt": 2}}


# --- errors --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b"{not json", QuarantineReason.INVALID_JSON),
        (b"\x00\x01", QuarantineReason.INVALID_JSON),
        ("a string", QuarantineReason.SCHEMA_VIOLATION),
        ({"eventId": "E", "data": {}}, QuarantineReason.SCHEMA_VIOLATION),
        ({"event": "", "data": {}}, QuarantineReason.SCHEMA_VIOLATION),
        ({"event": "domain.transfer.success", "data": {}}, QuarantineReason.UNKNOWN_EVENT_TYPE),
        ({"event": "domain.order.success", "data": {}}, QuarantineReason.SCHEMA_VIOLATION),
        ({"event": "domain.order.success", "data": []}, QuarantineReason.SCHEMA_VIOLATION),
        ({"event": "domain.order.success", "data": {"domainName": "a b.com"}}, QuarantineReason.INVALID_DOMAIN),
        (
            {"event": "domain.order.success", "data": {"domainName": "a.com", "price": "cheap"}},
            QuarantineReason.SCHEMA_VIOLATION,
        ),
        (
            {"event": "domain.renewal.success", "data": {"domainName": "a.com", "expireOn": "next year"}},
            QuarantineReason.SCHEMA_VIOLATION,
        ),
        (
            {"event": "mailbox.created", "data": {"firstName": "no domain, no address"}},
            QuarantineReason.SCHEMA_VIOLATION,
        ),
        (
            {"event": "subscription.renewing", "data": {"domain": "a.com", "quantity": -1}},
            QuarantineReason.SCHEMA_VIOLATION,
        ),
        (
            {"event": "prewarmup.order.success", "data": {"serviceProvider": "GOOGLE"}},
            QuarantineReason.SCHEMA_VIOLATION,
        ),
        (
            {"event": "prewarmup.order.success", "data": {"orderId": "P", "mailboxDetails": [{"domain": "a b"}]}},
            QuarantineReason.INVALID_DOMAIN,
        ),
    ],
)
def test_unmappable_input_raises_mapping_error_with_reason(document: Any, reason: QuarantineReason) -> None:
    with pytest.raises(MappingError) as raised:
        map_record(_raw(document))
    assert raised.value.reason is reason


@pytest.mark.parametrize(
    "body",
    [
        b'{"event": "domain.renewal.success", "data": {"domainName": "a.com", '
        b'"expireOn": "0001-01-01T00:00:00+01:00"}}',
    ],
    ids=["time-before-year-1-in-utc"],
)
def test_edge_values_are_schema_violations(body: bytes) -> None:
    with pytest.raises(MappingError) as raised:
        map_record(_raw(body))
    assert raised.value.reason is QuarantineReason.SCHEMA_VIOLATION


def test_deeply_nested_data_is_nesting_too_deep() -> None:
    body = b'{"event": "mailbox.created", "data": {"email": "a@a.com", "x": ' + b"[" * 900 + b"]" * 900 + b"}}"
    with pytest.raises(MappingError) as raised:
        map_record(_raw(body))
    assert raised.value.reason is QuarantineReason.NESTING_TOO_DEEP


def test_error_messages_do_not_echo_passwords() -> None:
    document = {"event": "mailbox.created", "data": {"email": "a@a.com", "password": "hunter2-secret", "isAdmin": "x"}}
    with pytest.raises(MappingError) as raised:
        map_record(_raw(document))
    assert "hunter2-secret" not in str(raised.value)


# --- secrets, determinism, fuzz ------------------------------------------------------------------------------


def test_no_secret_of_any_fixture_reaches_a_kafka_record() -> None:
    checked = 0
    for case in CASES:
        secrets = secret_values(case.body())
        if not secrets:
            continue
        try:
            events = map_record(case.raw_input())
        except MappingError:
            continue
        for event in events:
            record = to_kafka_record(event)
            blob = record.key + record.value + b"".join(value for _, value in record.headers)
            for secret in secrets:
                assert secret.encode() not in blob, f"{case.name}: a secret reached {event.type}"
                checked += 1
    assert checked >= 10, "too few fixture secrets checked: the test would prove little"


@pytest.mark.parametrize("case", [c for c in CASES if not c.name.startswith("error_")], ids=case_id)
def test_mapping_is_deterministic_whatever_the_delivery(case: GoldenCase) -> None:
    first = map_record(case.raw_input())
    assert map_record(case.raw_input()) == first
    redelivered = RawInput(
        body=case.body(),
        headers=RawHeaders(source=Source.COLDMAIL, transport=Transport.WEBHOOK, received_at=datetime.now(UTC)),
    )
    assert [e.id for e in map_record(redelivered)] == [e.id for e in first]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=mutated_bodies([case.body() for case in CASES]))
def test_fuzzed_input_maps_or_raises_mapping_error(body: bytes) -> None:
    try:
        events = map_record(_raw(body))
    except MappingError:
        return
    for event in events:
        assert isinstance(event, CanonicalEvent)
        to_kafka_record(event)


@pytest.mark.parametrize("depth", [70, 900, 1000])
def test_deeply_nested_envelope_extras_are_quarantined_as_nesting_too_deep(depth: int) -> None:
    nest = b"[" * depth + b"]" * depth
    body = b'{"event": "mailbox.created", "x": ' + nest + b', "data": {"email": "a@a.com"}}'
    with pytest.raises(MappingError) as raised:
        map_record(_raw(body))
    assert raised.value.reason is QuarantineReason.NESTING_TOO_DEEP


# --- secrets by allow-list (issue 12) ------------------------------------------------------------------------

_SECRET = "Vq3!mZ8#rT1@kP"
_MAILBOX = {"mailboxId": "M1", "email": "john@company.com", "domainName": "company.com", "password": _SECRET}
_UNSAFE_VARIANTS = [
    {"pass": _SECRET},
    {"credentials": {"user": "john", "pass": _SECRET}},
    {"otpauth_url": f"otpauth://totp/company.com:john?secret={_SECRET}"},
    {"mfaSeed": _SECRET},
    {"recoveryCodes": [_SECRET, "second-code"]},
    {"smtp": f"smtp://john%40company.com:{_SECRET}@smtp.company.com:587"},
    {"profilePicture": f"https://john:{_SECRET}@cdn.example.net/john.png"},
    {"message": f"scan otpauth://totp/john?secret={_SECRET} to finish"},
]
_UNSAFE_IDS = ["pass", "credentials", "otpauth_url", "mfaSeed", "recoveryCodes", "smtp-uri", "url-userinfo", "message"]


def _unsafe(document: dict[str, Any]) -> None:
    with pytest.raises(MappingError) as raised:
        map_record(_raw(document))
    assert raised.value.reason is QuarantineReason.UNSAFE_FIELDS
    assert _SECRET not in str(raised.value)


@pytest.mark.parametrize("event", ["mailbox.created", "mailbox.updated"])
@pytest.mark.parametrize("variant", _UNSAFE_VARIANTS, ids=_UNSAFE_IDS)
def test_mailbox_events_with_fields_not_known_to_be_safe_are_quarantined(event: str, variant: dict[str, Any]) -> None:
    _unsafe({"event": event, "eventId": "E1", "data": {**_MAILBOX, **variant}})


@pytest.mark.parametrize("variant", _UNSAFE_VARIANTS, ids=_UNSAFE_IDS)
def test_prewarmup_mailboxes_with_fields_not_known_to_be_safe_are_quarantined(variant: dict[str, Any]) -> None:
    mailbox = {k: v for k, v in _MAILBOX.items() if k != "domainName"}
    details = {"domain": "company.com", "preWarmedUpMailboxes": [{**mailbox, **variant}]}
    _unsafe(
        {"event": "prewarmup.order.success", "eventId": "E1", "data": {"orderId": "O1", "mailboxDetails": [details]}}
    )


@pytest.mark.parametrize(
    "document",
    [
        {"event": "mailbox.created", "eventId": "E1", "meta": {"pass": _SECRET}, "data": _MAILBOX},
        {
            "event": "prewarmup.order.success",
            "data": {"orderId": "O1", "imap": f"imaps://john:{_SECRET}@imap.company.com", "mailboxDetails": []},
        },
        {
            "event": "prewarmup.order.failed",
            "data": {"orderId": "O1", "mailboxDetails": [{"domain": "company.com", "smtpPass": _SECRET}]},
        },
    ],
    ids=["envelope", "order", "mailbox-details"],
)
def test_unknown_fields_anywhere_in_a_credential_event_quarantine_it(document: dict[str, Any]) -> None:
    _unsafe(document)


def test_error_texts_never_quote_payload_values() -> None:
    with pytest.raises(MappingError) as raised:
        map_record(_raw({"event": f"mailbox.{_SECRET}", "data": {}}))
    assert raised.value.reason is QuarantineReason.UNKNOWN_EVENT_TYPE
    assert _SECRET not in str(raised.value)


@pytest.mark.parametrize("value", [253402300799, 1700000000, "1700000000"])
def test_numeric_times_are_refused_where_the_contract_says_iso_8601(value: Any) -> None:
    # Cold Mail documents ISO 8601 times; a number is not read by its size (253402300799 became 1978).
    data = {"domainName": "a.com", "creationTime": value}
    with pytest.raises(MappingError) as raised:
        map_record(_raw({"event": "domain.order.success", "data": data}))
    assert raised.value.reason is QuarantineReason.SCHEMA_VIOLATION
