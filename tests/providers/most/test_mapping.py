"""The Most mapper: golden fixtures, every mapping branch, secrets, determinism and fuzzed input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings

from regpipe.contract.cloudevents import to_kafka_record
from regpipe.contract.envelope import CanonicalEvent
from regpipe.contract.events import (
    AccountBalanceLow,
    DomainAuthInfoRetrieved,
    DomainNameserversUpdated,
    DomainRenewalFailed,
    DomainRenewed,
    OrderBatchCompleted,
    OrderStatusChanged,
    TaskCompleted,
)
from regpipe.contract.ids import content_fingerprint
from regpipe.contract.raw import RawHeaders
from regpipe.contract.taxonomy import EventType, Outcome, Source, Transport
from regpipe.providers.mapper import MappingError, QuarantineReason, RawInput
from regpipe.providers.most.mapping import MAPPER_VERSION, map_record
from tests.golden._golden import GOLDEN_ROOT, GoldenCase, case_id, check_golden, golden_cases, secret_values
from tests.golden._mutations import mutated_bodies

CASES = golden_cases(GOLDEN_ROOT / "most")
_RECEIVED = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _raw(document: Any, *, account: str | None = None, transport: Transport = Transport.WEBHOOK) -> RawInput:
    body = document if isinstance(document, bytes) else orjson.dumps(document)
    headers = RawHeaders(source=Source.MOST, transport=transport, received_at=_RECEIVED, account=account)
    return RawInput(body=body, headers=headers)


def _envelope(event_type: str, data: Any, **extra: Any) -> dict[str, Any]:
    return {"id": "evt_1", "type": event_type, "created_at": "2026-05-01T11:00:00Z", "data": data, **extra}


def _task(task_type: str, status: str, *items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return _envelope(
        "task.completed", {"taskId": "tsk_1", "type": task_type, "status": status, "result": list(items)}, **extra
    )


def _types(events: list[CanonicalEvent]) -> list[str]:
    return [event.type.value for event in events]


def _reason(document: Any) -> QuarantineReason:
    with pytest.raises(MappingError) as raised:
        map_record(_raw(document))
    return raised.value.reason


# --- golden fixtures -----------------------------------------------------------------------------------------


def test_there_are_golden_cases_for_every_provider_event_type() -> None:
    types = {orjson.loads(case.body()).get("type") for case in CASES if not case.name.startswith("error_")}
    assert {
        "task.completed",
        "orders.registered",
        "orders.completed",
        "domain.expiring",
        "domain.deleting",
        "domain.blocked",
        "domain.complaint",
        "balance.low",
    } <= types


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_golden(case: GoldenCase) -> None:
    for event in check_golden(case, map_record):
        assert event.mapper_version == MAPPER_VERSION
        assert event.source is Source.MOST


# --- task.completed ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("COMPLETED", Outcome.SUCCESS),
        ("PARTIAL", Outcome.FAILURE),
        ("FAILED", Outcome.FAILURE),
        ("completed", Outcome.SUCCESS),
        ("RETRYING", Outcome.NOTIFICATION),
    ],
)
def test_task_status_sets_the_task_outcome(status: str, outcome: Outcome) -> None:
    [task] = map_record(_raw(_task("domain.lock", status)))
    assert task.type is EventType.TASK_COMPLETED
    assert task.outcome is outcome
    assert task.partition_key == "tsk_1"
    assert isinstance(task.data, TaskCompleted)
    assert task.data.status == status


@pytest.mark.parametrize(
    ("task_type", "ok", "expected"),
    [
        ("domain.renew", True, EventType.DOMAIN_RENEWED),
        ("domain.renew", False, EventType.DOMAIN_RENEWAL_FAILED),
        ("domain.set_nameservers", True, EventType.DOMAIN_NAMESERVERS_UPDATED),
        ("domain.set_nameservers", False, EventType.DOMAIN_NAMESERVERS_UPDATE_FAILED),
        ("domain.get_auth_info", True, EventType.DOMAIN_AUTH_INFO_RETRIEVED),
        ("domain.get_auth_info", False, EventType.DOMAIN_AUTH_INFO_FAILED),
    ],
)
def test_each_task_item_fans_out_to_its_domain_event(task_type: str, ok: bool, expected: EventType) -> None:
    item = {"domain": "Example.COM", "ok": ok, "error": None if ok else "registry said no"}
    _, fanned = map_record(_raw(_task(task_type, "COMPLETED" if ok else "FAILED", item)))
    assert fanned.type is expected
    assert fanned.outcome is (Outcome.SUCCESS if ok else Outcome.FAILURE)
    assert fanned.subject == fanned.partition_key == "example.com"
    assert fanned.data.model_dump()["item_index"] == 0
    assert fanned.data.model_dump()["task_id"] == "tsk_1"
    if not ok:
        assert fanned.data.error is not None
        # An auth-info error keeps no text: registries quote the auth code in their messages.
        assert fanned.data.error.detail == (None if task_type == "domain.get_auth_info" else "registry said no")


def test_renew_item_carries_new_expiry_and_term() -> None:
    ok = {"domain": "a.com", "ok": True, "data": {"term": 2, "newExpiry": "2028-01-01T00:00:00", "price": 9.5}}
    bad = {
        "domain": "b.com",
        "ok": False,
        "data": {"term": 1, "newExpiry": "2027-01-01T00:00:00Z"},
        "error": {"code": "X"},
    }
    _, renewed, failed = map_record(_raw(_task("domain.renew", "PARTIAL", ok, bad)))
    assert isinstance(renewed.data, DomainRenewed)
    assert renewed.data.expires_at == datetime(2028, 1, 1, tzinfo=UTC)
    assert renewed.data.period_years == 2
    assert renewed.data.provider_fields == {"price": 9.5}
    assert isinstance(failed.data, DomainRenewalFailed)
    assert failed.data.period_years == 1
    assert failed.data.provider_fields == {"newExpiry": "2027-01-01T00:00:00Z"}
    assert failed.data.error is not None
    assert failed.data.error.code == "X"


def test_nameservers_are_lower_cased_without_trailing_dot() -> None:
    item = {"domain": "a.com", "ok": True, "data": {"nameservers": ["NS1.Example.NET.", " ns2.example.net "]}}
    _, updated = map_record(_raw(_task("domain.set_nameservers", "COMPLETED", item)))
    assert isinstance(updated.data, DomainNameserversUpdated)
    assert updated.data.nameservers == ["ns1.example.net", "ns2.example.net"]


def test_auth_info_is_withheld_everywhere_and_recipient_kept() -> None:
    secret = "S3cr3t-EPP-c0de!"
    item = {"domain": "a.com", "ok": True, "data": {"authInfo": secret, "recipient": "owner@a.com"}, "authCode": secret}
    task, retrieved = map_record(_raw(_task("domain.get_auth_info", "COMPLETED", item, authInfo=secret)))
    assert isinstance(retrieved.data, DomainAuthInfoRetrieved)
    assert retrieved.data.auth_info_delivered_to == "owner@a.com"
    assert retrieved.data.secret_withheld is True
    assert isinstance(task.data, TaskCompleted)
    assert task.data.items[0].secret_withheld is True
    assert task.data.items[0].data == {"recipient": "owner@a.com"}
    for event in (task, retrieved):
        record = to_kafka_record(event)
        assert secret.encode() not in record.value + b"".join(value for _, value in record.headers)


def test_unknown_task_type_keeps_items_in_the_task_event_only() -> None:
    events = map_record(
        _raw(_task("domain.transfer_out", "COMPLETED", {"domain": "a.com", "ok": True, "data": {"x": 1}}))
    )
    assert _types(events) == ["task.completed"]
    assert isinstance(events[0].data, TaskCompleted)
    assert events[0].data.items[0].data == {"x": 1}


def test_item_without_domain_is_listed_but_not_fanned_out() -> None:
    events = map_record(_raw(_task("domain.renew", "COMPLETED", {"ok": True}, {"domain": "b.com", "ok": True})))
    assert _types(events) == ["task.completed", "domain.renewed"]
    assert events[1].data.model_dump()["item_index"] == 1
    assert isinstance(events[0].data, TaskCompleted)
    assert (events[0].data.succeeded_count, events[0].data.failed_count) == (2, 0)


def test_task_time_is_completion_time() -> None:
    document = _task("domain.renew", "COMPLETED", {"domain": "a.com", "ok": True})
    document["data"]["completedAt"] = "2026-05-01T10:59:00+02:00"
    events = map_record(_raw(document))
    assert {event.time for event in events} == {datetime(2026, 5, 1, 8, 59, tzinfo=UTC)}


# --- order batches -------------------------------------------------------------------------------------------


def _batch(event_type: str, *orders: dict[str, Any], **counts: int) -> dict[str, Any]:
    return _envelope(event_type, {"batchId": "bat_1", "orders": list(orders), **counts})


def test_orders_registered_fans_out_status_and_registration_per_order() -> None:
    events = map_record(
        _raw(
            _batch(
                "orders.registered",
                {"orderId": "o1", "domain": "a.com", "status": "REGISTERED"},
                {"orderId": "o2", "domain": "b.com", "status": "SETTING_NS"},
                {"orderId": "o3", "domain": "c.com", "status": "COMPLETED"},
                {"orderId": "o4", "domain": "d.com", "status": "FAILED", "error": "taken"},
                {"orderId": "o5", "domain": "e.com", "status": "QUEUED"},
            )
        )
    )
    assert [(e.type.value, e.outcome.value, e.partition_key) for e in events] == [
        ("order_batch.registered", "failure", "bat_1"),
        ("order.status_changed", "notification", "a.com"),
        ("domain.registered", "success", "a.com"),
        ("order.status_changed", "notification", "b.com"),
        ("domain.registered", "success", "b.com"),
        ("order.status_changed", "success", "c.com"),
        ("domain.registered", "success", "c.com"),
        ("order.status_changed", "failure", "d.com"),
        ("domain.registration_failed", "failure", "d.com"),
        ("order.status_changed", "notification", "e.com"),
    ]


def test_orders_completed_does_not_repeat_registrations() -> None:
    events = map_record(_raw(_batch("orders.completed", {"orderId": "o1", "domain": "a.com", "status": "COMPLETED"})))
    assert _types(events) == ["order_batch.completed", "order.status_changed"]
    assert events[0].outcome is Outcome.SUCCESS
    assert isinstance(events[0].data, OrderBatchCompleted)


def test_batch_failure_count_from_the_provider_wins() -> None:
    events = map_record(
        _raw(_batch("orders.completed", {"orderId": "o1", "domain": "a.com", "status": "COMPLETED"}, failed=1))
    )
    assert events[0].outcome is Outcome.FAILURE


def test_order_without_domain_is_keyed_by_order_id_and_order_without_id_only_listed() -> None:
    events = map_record(
        _raw(_batch("orders.registered", {"orderId": "o1", "status": "REGISTERED"}, {"domain": "b.com"}))
    )
    assert _types(events) == ["order_batch.registered", "order.status_changed"]
    assert events[1].partition_key == "o1"
    assert events[1].subject is None
    assert isinstance(events[1].data, OrderStatusChanged)
    assert len(events[0].data.model_dump()["orders"]) == 2


# --- domain notices and balance ------------------------------------------------------------------------------


def test_domain_notices_map_to_their_types() -> None:
    cases = {
        "domain.expiring": EventType.DOMAIN_EXPIRING,
        "domain.deleting": EventType.DOMAIN_DELETING,
        "domain.blocked": EventType.DOMAIN_BLOCKED,
        "domain.complaint": EventType.DOMAIN_COMPLAINT_RECEIVED,
    }
    for provider_type, canonical in cases.items():
        [event] = map_record(_raw(_envelope(provider_type, {"domain": "ÄBC.example", "domainId": 77})))
        assert event.type is canonical
        assert event.outcome is Outcome.NOTIFICATION
        assert event.subject == "xn--bc-uia.example"
        assert event.data.model_dump()["domain_id"] == "77"


def test_balance_low_is_keyed_by_account() -> None:
    data = {"threshold": 50, "balance": "49.99", "source": "approx", "currency": "USD"}
    [event] = map_record(_raw(_envelope("balance.low", data), account="acct-1"))
    assert event.partition_key == "account:acct-1"
    assert isinstance(event.data, AccountBalanceLow)
    assert (str(event.data.threshold), str(event.data.balance), event.data.balance_source) == ("50", "49.99", "approx")
    [unkeyed] = map_record(_raw(_envelope("balance.low", data)))
    assert unkeyed.partition_key == "evt_1"


# --- envelope ------------------------------------------------------------------------------------------------


def test_envelope_aliases_are_accepted() -> None:
    document = {
        "eventId": "e9",
        "event": "domain.expiring",
        "createdAt": "2026-05-01T09:00:00Z",
        "data": {"domain": "a.com"},
    }
    [event] = map_record(_raw(document))
    assert (event.provider_event_id, event.provider_event_type) == ("e9", "domain.expiring")
    assert event.time == datetime(2026, 5, 1, 9, tzinfo=UTC)


def test_missing_id_uses_the_body_fingerprint_and_missing_time_the_receive_time() -> None:
    body = orjson.dumps({"type": "domain.expiring", "data": {"domain": "a.com"}})
    [event] = map_record(_raw(body))
    assert event.provider_event_id == content_fingerprint(body)
    assert event.time == _RECEIVED


def test_unknown_fields_are_kept_at_every_level() -> None:
    document = _task("domain.renew", "COMPLETED", {"domain": "a.com", "ok": True, "registrar": "dynadot"}, attempt=3)
    document["data"]["owner"] = {"team": "ops"}
    task, renewed = map_record(_raw(document))
    assert task.data.provider_fields == {"owner": {"team": "ops"}, "envelope": {"attempt": 3}}
    assert isinstance(task.data, TaskCompleted)
    assert task.data.items[0].provider_fields == {"registrar": "dynadot"}
    assert renewed.data.provider_fields == {"registrar": "dynadot", "envelope": {"attempt": 3}}


# --- errors --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b"\xff\xfe not json", QuarantineReason.INVALID_JSON),
        (b"", QuarantineReason.INVALID_JSON),
        ([1, 2], QuarantineReason.SCHEMA_VIOLATION),
        ({"id": "e", "data": {}}, QuarantineReason.SCHEMA_VIOLATION),
        ({"id": "e", "type": "domain.renewed", "data": {}}, QuarantineReason.UNKNOWN_EVENT_TYPE),
        (_envelope("domain.expiring", {"checkpoint": 7}), QuarantineReason.SCHEMA_VIOLATION),
        (_envelope("domain.expiring", {"domain": "a b.com"}), QuarantineReason.INVALID_DOMAIN),
        (_envelope("domain.expiring", {"domain": "a.com", "expiresAt": "soon"}), QuarantineReason.SCHEMA_VIOLATION),
        (
            _envelope("task.completed", {"taskId": "t", "type": "domain.renew", "status": "COMPLETED", "result": "x"}),
            QuarantineReason.SCHEMA_VIOLATION,
        ),
        (_task("domain.renew", "COMPLETED", {"domain": "a.com"}), QuarantineReason.SCHEMA_VIOLATION),
        (
            _task("domain.renew", "COMPLETED", {"domain": "a.com", "ok": True, "data": {"term": "one"}}),
            QuarantineReason.SCHEMA_VIOLATION,
        ),
        (_task("domain.renew", "COMPLETED", {"domain": "bad name.com", "ok": True}), QuarantineReason.INVALID_DOMAIN),
        (_envelope("balance.low", {"balance": "lots"}), QuarantineReason.SCHEMA_VIOLATION),
        (_envelope("orders.completed", {"orders": []}), QuarantineReason.SCHEMA_VIOLATION),
        (_envelope("domain.expiring", "not an object"), QuarantineReason.SCHEMA_VIOLATION),
        (
            _envelope("domain.expiring", {"domain": "a.com", "expiresAt": "0001-01-01T00:00:00+01:00"}),
            QuarantineReason.SCHEMA_VIOLATION,
        ),
        (
            b'{"type": "domain.expiring", "data": {"domain": "a.com", "x": ' + b"[" * 900 + b"]" * 900 + b"}}",
            QuarantineReason.NESTING_TOO_DEEP,
        ),
    ],
)
def test_unmappable_input_raises_mapping_error_with_reason(document: Any, reason: QuarantineReason) -> None:
    assert _reason(document) is reason


def test_error_messages_do_not_echo_secret_values() -> None:
    secret = "Zp4&Qe8*Vn1^Tb6%"
    document = _task(
        "domain.get_auth_info", "COMPLETED", {"domain": "a.com", "ok": "maybe", "data": {"authInfo": secret}}
    )
    with pytest.raises(MappingError) as raised:
        map_record(_raw(document))
    assert secret not in str(raised.value)


# --- secrets, determinism, fuzz ------------------------------------------------------------------------------


def test_no_secret_of_any_fixture_reaches_a_kafka_record() -> None:
    checked = 0
    for case in CASES:
        secrets = secret_values(case.body())
        if not secrets:
            continue
        for event in map_record(case.raw_input()):
            record = to_kafka_record(event)
            blob = record.key + record.value + b"".join(value for _, value in record.headers)
            for secret in secrets:
                assert secret.encode() not in blob, f"{case.name}: a secret reached {event.type}"
                checked += 1
    assert checked > 0, "no fixture holds a secret: the test would prove nothing"


@pytest.mark.parametrize("case", [c for c in CASES if not c.name.startswith("error_")], ids=case_id)
def test_mapping_is_deterministic_whatever_the_route(case: GoldenCase) -> None:
    first = map_record(case.raw_input())
    again = map_record(case.raw_input())
    assert first == again
    other_route = RawInput(
        body=case.body(),
        headers=RawHeaders(source=Source.MOST, transport=Transport.POLL, received_at=datetime.now(UTC)),
    )
    assert [e.id for e in map_record(other_route)] == [e.id for e in first]
    assert len({e.id for e in first}) == len(first), "ids must be unique within one record"


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


# --- hostile shapes (issue 12) ---------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [70, 900, 1000])
def test_deeply_nested_extras_are_quarantined_as_nesting_too_deep(depth: int) -> None:
    nest = b"[" * depth + b"]" * depth
    in_envelope = b'{"id": "e1", "type": "domain.expiring", "x": ' + nest + b', "data": {"domain": "a.com"}}'
    in_data = b'{"id": "e1", "type": "domain.expiring", "data": {"domain": "a.com", "x": ' + nest + b"}}"
    for body in (in_envelope, in_data):
        with pytest.raises(MappingError) as raised:
            map_record(_raw(body))
        assert raised.value.reason is QuarantineReason.NESTING_TOO_DEEP


# --- secrets by allow-list (issue 12) ------------------------------------------------------------------------

_AUTH_CODE = "Q7#vLm2$Pz9@wRkd"


def _encoded(events: list[CanonicalEvent]) -> bytes:
    records = [to_kafka_record(event) for event in events]
    return b"".join(r.key + r.value + b"".join(value for _, value in r.headers) for r in records)


@pytest.mark.parametrize(
    ("item", "task_extra", "envelope_extra"),
    [
        ({"data": {"code": _AUTH_CODE, "recipient": "r@a.com"}}, {}, {}),
        ({"data": {"pw": _AUTH_CODE}}, {}, {}),
        ({"data": {"authorizationCode": _AUTH_CODE}}, {}, {}),
        ({"data": {"authInfoPw": _AUTH_CODE}}, {}, {}),
        ({"data": {"fields": [{"name": "authInfo", "value": _AUTH_CODE}]}}, {}, {}),
        ({"data": {"recipient": "r@a.com"}, "attributes": [{"name": "authInfo", "value": _AUTH_CODE}]}, {}, {}),
        ({"data": {"recipient": "r@a.com"}, "code": _AUTH_CODE}, {}, {}),
        ({"data": {"recipient": "r@a.com"}}, {"params": {"pw": _AUTH_CODE}}, {}),
        ({"data": {"recipient": "r@a.com"}}, {}, {"meta": {"code": _AUTH_CODE}}),
        ({"data": {"recipient": f"otpauth://totp/a.com?secret={_AUTH_CODE}"}}, {}, {}),
        ({"data": {"recipient": f"https://user:{_AUTH_CODE}@example.net/"}}, {}, {}),
    ],
    ids=[
        "code",
        "pw",
        "authorizationCode",
        "authInfoPw",
        "name-value-list-in-data",
        "name-value-list-on-item",
        "code-on-item",
        "unknown-task-field",
        "unknown-envelope-field",
        "otpauth-uri",
        "credentials-in-url",
    ],
)
def test_auth_info_tasks_with_fields_not_known_to_be_safe_are_quarantined_as_unsafe(
    item: dict[str, Any], task_extra: dict[str, Any], envelope_extra: dict[str, Any]
) -> None:
    document = _task("domain.get_auth_info", "COMPLETED", {"domain": "a.com", "ok": True, **item}, **envelope_extra)
    document["data"].update(task_extra)
    with pytest.raises(MappingError) as raised:
        map_record(_raw(document))
    assert raised.value.reason is QuarantineReason.UNSAFE_FIELDS
    assert _AUTH_CODE not in str(raised.value)


@pytest.mark.parametrize(
    "error",
    [
        {"code": "AUTH_CODE_EXPIRED", "message": f"auth code {_AUTH_CODE} has expired"},
        f"registry refused to reset the auth code (was {_AUTH_CODE})",
    ],
    ids=["object", "text"],
)
def test_auth_info_error_messages_never_reach_an_event(error: Any) -> None:
    document = _task("domain.get_auth_info", "FAILED", {"domain": "a.com", "ok": False, "error": error})

    events = map_record(_raw(document))

    assert _types(events) == ["task.completed", "domain.auth_info_failed"]
    assert _AUTH_CODE.encode() not in _encoded(events)


def test_error_texts_never_quote_payload_values() -> None:
    with pytest.raises(MappingError) as raised:
        map_record(_raw(_envelope(f"task.{_AUTH_CODE}", {})))
    assert raised.value.reason is QuarantineReason.UNKNOWN_EVENT_TYPE
    assert _AUTH_CODE not in str(raised.value)


# --- domain names (issue 12) ---------------------------------------------------------------------------------

_NOT_DOMAINS = [
    "a.com\r\nX-Injected: 1",
    "a.com\x00.evil.net",
    "https://a.com/path",
    "a.com/path",
    "user@a.com",
    "a..com",
    ".a.com",
    "x" * 64 + ".com",
    ".".join(["abcdefghi"] * 26) + ".com",
    "a.com:8080",
    "*.a.com",
    "a\tb.com",
]
_NOT_DOMAIN_IDS = [
    "crlf",
    "nul",
    "url",
    "path",
    "email",
    "empty-label",
    "leading-dot",
    "64-char-label",
    "over-253",
    "port",
    "wildcard",
    "tab",
]


@pytest.mark.parametrize("name", _NOT_DOMAINS, ids=_NOT_DOMAIN_IDS)
def test_ascii_names_that_are_not_domains_are_invalid_domain(name: str) -> None:
    for document in (
        _envelope("domain.expiring", {"domain": name, "checkpoint": 7}),
        _task("domain.renew", "COMPLETED", {"domain": name, "ok": True}),
    ):
        with pytest.raises(MappingError) as raised:
            map_record(_raw(document))
        assert raised.value.reason is QuarantineReason.INVALID_DOMAIN
        assert name not in str(raised.value)


@pytest.mark.parametrize(
    "name", ["a.com", "A.Example.COM.", "x" * 63 + ".com", "_dmarc.example.org", "xn--bcher-kva.example", "bücher.de"]
)
def test_real_domain_names_still_map(name: str) -> None:
    [event] = map_record(_raw(_envelope("domain.expiring", {"domain": name, "checkpoint": 7})))
    assert event.subject == event.partition_key
    assert event.subject is not None
    assert len(event.subject) <= 253


def test_a_fatal_auth_info_task_error_keeps_its_code_only() -> None:
    document = _task("domain.get_auth_info", "FAILED")
    document["data"]["error"] = {"code": "REGISTRAR_UNAVAILABLE", "message": f"could not reset {_AUTH_CODE}"}

    [task] = map_record(_raw(document))

    assert task.data.provider_fields == {"error": {"code": "REGISTRAR_UNAVAILABLE"}}
    assert _AUTH_CODE.encode() not in _encoded([task])


# --- numeric timestamps (issue 12) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (253402300799, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("253402300799", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (1700000000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        (1700000000.5, datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC)),
    ],
)
def test_numeric_times_are_unix_seconds_whatever_their_size(value: Any, expected: datetime) -> None:
    document = {"id": "e1", "type": "domain.expiring", "timestamp": value, "data": {"domain": "a.com"}}
    [event] = map_record(_raw(document))
    assert event.time == expected


@pytest.mark.parametrize("value", [1700000000000, 1e20, True])
def test_numeric_times_beyond_the_calendar_in_seconds_are_schema_violations(value: Any) -> None:
    document = {"id": "e1", "type": "domain.expiring", "timestamp": value, "data": {"domain": "a.com"}}
    assert _reason(document) is QuarantineReason.SCHEMA_VIOLATION


def test_validation_error_texts_are_bounded_whatever_the_number_of_errors() -> None:
    # The text becomes a quarantine header: 20,000 bad orders must not make it megabytes long.
    orders = [{"orderId": {"not": "an id"}, "domain": "a.com"} for _ in range(20_000)]
    with pytest.raises(MappingError) as raised:
        map_record(_raw(_envelope("orders.completed", {"batchId": "b1", "orders": orders})))
    assert raised.value.reason is QuarantineReason.SCHEMA_VIOLATION
    assert len(raised.value.message) < 1_000
    assert "20000 errors" in raised.value.message
