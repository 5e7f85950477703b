"""The pure processor: every kind of bad record becomes a quarantine record with the right reason, good ones
become encoded canonical events, and nothing a record can contain makes it raise."""

from __future__ import annotations

import base64
from email import policy
from email.message import EmailMessage

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regpipe.contract.cloudevents import from_kafka_record
from regpipe.contract.envelope import CanonicalEvent
from regpipe.contract.raw import RawHeaders
from regpipe.contract.sealing import RawSealer, parse_keyring
from regpipe.contract.taxonomy import Source, Transport
from regpipe.normalize.processor import Mapped, Processor, Quarantined, Result
from regpipe.normalize.registry import Mapper, MapperRegistry
from regpipe.providers.mapper import QuarantineReason, RawInput
from regpipe.providers.opensrs import mapping as opensrs_mapping
from regpipe.streaming.quarantine import QUARANTINE_HEADERS, read_quarantine_record
from regpipe.streaming.record import RawRecord
from tests.normalize.sample_mapper import SAMPLE_MAPPERS, SAMPLE_VERSION, expected_id, sample_record

_KEY = base64.b64encode(bytes(range(32))).decode()
_SEALER = RawSealer(parse_keyring(f"k1:{_KEY}"), "k1")
_PLAIN = RawSealer({}, None)


def _record(key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]], offset: int = 7) -> RawRecord:
    return RawRecord(topic="raw-test", partition=2, offset=offset, key=key, value=value, headers=headers)


def _process(value: bytes, *, headers: list[tuple[str, bytes]] | None = None, sealer: RawSealer = _PLAIN) -> Result:
    key, _, default_headers = sample_record("evt-1", "example.com")
    return Processor(SAMPLE_MAPPERS, sealer).process(
        _record(key, value, default_headers if headers is None else headers)
    )


def _reason(result: Result) -> QuarantineReason:
    assert isinstance(result, Quarantined), result
    return result.reason


def _header(headers: list[tuple[str, bytes]], name: str) -> str:
    values = [value.decode() for key, value in headers if key == name]
    assert len(values) == 1, (name, headers)
    return values[0]


def test_a_valid_record_maps_to_encoded_canonical_events_with_lineage() -> None:
    key, value, headers = sample_record("evt-1", "Example.COM")

    result = Processor(SAMPLE_MAPPERS, _PLAIN).process(_record(key, value, headers))

    assert isinstance(result, Mapped)
    assert result.source is Source.MOST
    [record] = result.records
    event = from_kafka_record(record.value, record.headers)
    assert event.id == expected_id("evt-1")
    # Keyed by canonical id, so every copy of an id reaches one deduplicator partition; the domain stays the
    # partition key of the public topic.
    assert record.key == str(event.id).encode()
    assert event.partition_key == "example.com"
    assert event.lineage is not None
    assert (event.lineage.topic, event.lineage.partition, event.lineage.offset) == ("raw-test", 2, 7)
    assert event.mapper_version == SAMPLE_VERSION
    assert event.correction is False


def test_xml_bodies_map_too() -> None:
    key, value, headers = sample_record(
        "evt-x", "", body=b'<event id="evt-x" kind="expiring" domain="example.org"/>', content_type="text/xml"
    )

    result = Processor(SAMPLE_MAPPERS, _PLAIN).process(_record(key, value, headers))

    assert isinstance(result, Mapped)
    assert [from_kafka_record(r.value, r.headers).partition_key for r in result.records] == ["example.org"]


def test_corrections_are_marked() -> None:
    key, value, headers = sample_record("evt-1", "example.com")

    result = Processor(SAMPLE_MAPPERS, _PLAIN, correction=True).process(_record(key, value, headers))

    assert isinstance(result, Mapped)
    assert from_kafka_record(result.records[0].value, result.records[0].headers).correction is True


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe\x00garbage", QuarantineReason.UNREADABLE_BYTES),
        (b'{"id": "evt-1", "kind": ', QuarantineReason.INVALID_JSON),
        (b'["not", "an", "object"]', QuarantineReason.SCHEMA_VIOLATION),
        (b'{"id": 12, "kind": "expiring", "domain": "example.com"}', QuarantineReason.SCHEMA_VIOLATION),
        (b'{"id": "evt-1", "kind": "renewed", "domain": "example.com"}', QuarantineReason.UNKNOWN_EVENT_TYPE),
        (b'{"id": "evt-1", "kind": "expiring", "domain": "exa mple.com"}', QuarantineReason.INVALID_DOMAIN),
        (b'{"id": "evt-1", "kind": "explode", "password": "hunter2"}', QuarantineReason.MAPPER_ERROR),
    ],
)
def test_bad_bodies_are_quarantined_with_their_reason(body: bytes, reason: QuarantineReason) -> None:
    assert _reason(_process(body)) is reason


def test_invalid_xml_is_quarantined() -> None:
    _, _, headers = sample_record("evt-x", "", content_type="application/xml")

    assert _reason(_process(b"<event id='evt-x' kind=", headers=headers)) is QuarantineReason.INVALID_XML


def test_a_mapper_bug_is_quarantined_without_quoting_the_payload() -> None:
    result = _process(b'{"id": "evt-1", "kind": "explode", "password": "hunter2"}')

    assert isinstance(result, Quarantined)
    assert result.error == "KeyError"
    assert "sample_mapper.py" in result.message
    assert "hunter2" not in result.message
    assert "no such field" not in result.message  # the exception's own text may quote payload values


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ([], QuarantineReason.INVALID_HEADERS),
        ([("source", b"most")], QuarantineReason.INVALID_HEADERS),
        ([("source", b"most"), ("transport", b"pigeon")], QuarantineReason.INVALID_HEADERS),
        (
            [("source", b"most"), ("transport", b"webhook"), ("received-at", b"yesterday")],
            QuarantineReason.INVALID_HEADERS,
        ),
        ([("source", b"\xff\xfe"), ("transport", b"webhook")], QuarantineReason.INVALID_HEADERS),
        ([("source", b"acme"), ("transport", b"webhook")], QuarantineReason.UNKNOWN_SOURCE),
        ([("source", b"coldmail"), ("transport", b"webhook")], QuarantineReason.UNKNOWN_SOURCE),
    ],
)
def test_bad_headers_are_quarantined_with_their_reason(
    headers: list[tuple[str, bytes]], reason: QuarantineReason
) -> None:
    assert _reason(_process(b'{"id": "evt-1", "kind": "expiring", "domain": "example.com"}', headers=headers)) is reason


def _sealed(kid: str, sealer: RawSealer) -> tuple[bytes, list[tuple[str, bytes]]]:
    body = b'{"id": "evt-s", "kind": "expiring", "domain": "example.net"}'
    value, seal = sealer.seal(body)
    headers = RawHeaders(source=Source.MOST, transport=Transport.WEBHOOK, seal=kid if seal else None).to_kafka()
    return value, headers


def test_sealed_records_are_opened_before_mapping() -> None:
    value, headers = _sealed("k1", _SEALER)

    result = _process(value, headers=headers, sealer=_SEALER)

    assert isinstance(result, Mapped)
    assert [from_kafka_record(r.value, r.headers).partition_key for r in result.records] == ["example.net"]


def test_records_sealed_with_an_unknown_key_are_quarantined_still_sealed() -> None:
    other = RawSealer(parse_keyring(f"k9:{base64.b64encode(bytes(32)).decode()}"), "k9")
    value, headers = _sealed("k9", other)

    result = _process(value, headers=headers, sealer=_SEALER)

    assert isinstance(result, Quarantined)
    assert result.reason is QuarantineReason.UNSEALABLE
    assert result.record.value == value


def test_tampered_sealed_records_are_quarantined() -> None:
    value, headers = _sealed("k1", _SEALER)
    tampered = value[:-1] + bytes([value[-1] ^ 1])

    assert _reason(_process(tampered, headers=headers, sealer=_SEALER)) is QuarantineReason.UNSEALABLE


def test_a_quarantine_record_is_the_raw_record_plus_why_and_where() -> None:
    key, value, headers = sample_record("evt-q", "example.com", body=b'{"kind": "renewed"}')

    result = Processor(SAMPLE_MAPPERS, _PLAIN).process(_record(key, value, headers, offset=42))

    assert isinstance(result, Quarantined)
    record = result.record
    assert (record.key, record.value) == (key, value)
    assert record.headers[: len(headers)] == headers
    assert _header(record.headers, "quarantine-reason") == "unknown_event_type"
    assert _header(record.headers, "quarantine-message") == "unknown kind"
    assert _header(record.headers, "mapper-version") == SAMPLE_VERSION
    assert _header(record.headers, "raw-topic") == "raw-test"
    assert _header(record.headers, "raw-partition") == "2"
    assert _header(record.headers, "raw-offset") == "42"
    assert _header(record.headers, "quarantine-stage") == "normalizer"
    assert _header(record.headers, "quarantined-at").startswith("20")


def test_a_quarantined_record_reads_back_as_the_raw_record_at_its_original_position() -> None:
    key, value, headers = sample_record("evt-q", "example.com", body=b"{")
    result = Processor(SAMPLE_MAPPERS, _PLAIN).process(_record(key, value, headers, offset=42))
    assert isinstance(result, Quarantined)
    stored = RawRecord(topic="q", partition=0, offset=3, key=key, value=value, headers=result.record.headers)

    info, raw = read_quarantine_record(stored)

    assert (info.reason, info.stage) == ("invalid_json", "normalizer")
    assert (raw.topic, raw.partition, raw.offset) == ("raw-test", 2, 42)
    assert list(raw.headers) == headers
    # Quarantined again (e.g. a redrive that still fails): the quarantine headers are replaced, not repeated.
    again = Processor(SAMPLE_MAPPERS, _PLAIN).process(raw)
    assert isinstance(again, Quarantined)
    names = [name for name, _ in again.record.headers if name in QUARANTINE_HEADERS]
    assert sorted(names) == sorted(QUARANTINE_HEADERS)
    assert _header(again.record.headers, "raw-offset") == "42"


def test_an_empty_mapping_is_a_mapped_record_without_events() -> None:
    result = _process(b'{"kind": "nothing"}')

    assert isinstance(result, Mapped)
    assert result.records == ()


_HEADER_NAMES = st.sampled_from(
    ["source", "transport", "received-at", "content-type", "ingest-id", "provider-event-id", "seal", "x-other"]
)
_HEADER_VALUES = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"most", b"coldmail", b"webhook", b"poll", b"k1", b"2026-01-01T00:00:00Z", b"application/xml"]),
)


@settings(max_examples=300, deadline=None)
@given(
    key=st.one_of(st.none(), st.binary(max_size=20)),
    value=st.one_of(
        st.none(),
        st.binary(max_size=200),
        st.builds(
            lambda d: f'{{"id": "e", "kind": "expiring", "domain": {d!r}}}'.replace("'", '"').encode(),
            st.text(max_size=30),
        ),
    ),
    headers=st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=8),
)
def test_nothing_a_record_contains_makes_the_processor_raise(
    key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
) -> None:
    result = Processor(SAMPLE_MAPPERS, _SEALER).process(_record(key, value, headers))

    if isinstance(result, Quarantined):
        assert (result.record.key, result.record.value) == (key, value)
        assert _header(result.record.headers, "quarantine-reason") == result.reason.value
    else:
        assert isinstance(result, Mapped)


def _mapper_raising(exc: Exception) -> MapperRegistry:
    def map_record(raw: RawInput) -> list[CanonicalEvent]:
        raise exc

    return {Source.MOST: Mapper(Source.MOST, "raising/1", map_record)}


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (RecursionError("maximum recursion depth exceeded"), QuarantineReason.NESTING_TOO_DEEP),
        (
            ValueError("Exceeds the limit (4300 digits) for integer string conversion"),
            QuarantineReason.NUMBER_TOO_LARGE,
        ),
    ],
    ids=["recursion", "integer-digits"],
)
def test_hostile_shapes_escaping_a_mapper_are_quarantined_with_their_own_reason(
    exc: Exception, reason: QuarantineReason
) -> None:
    key, value, headers = sample_record("evt-1", "example.com")

    result = Processor(_mapper_raising(exc), _PLAIN).process(_record(key, value, headers))

    assert _reason(result) is reason
    assert isinstance(result, Quarantined)
    assert "4300" not in result.message


@pytest.mark.parametrize(
    "exc",
    [RuntimeError("x"), NotImplementedError(), OSError("x"), UnicodeDecodeError("utf-8", b"\xff", 0, 1, "x")],
    ids=lambda exc: type(exc).__name__,
)
def test_any_exception_a_record_raises_is_quarantined_as_mapper_error(exc: Exception) -> None:
    # Issue 12: only a listed few types were caught; RuntimeError and OSError stopped the stage on every restart.
    key, value, headers = sample_record("evt-1", "example.com")

    result = Processor(_mapper_raising(exc), _PLAIN).process(_record(key, value, headers))

    assert _reason(result) is QuarantineReason.MAPPER_ERROR
    assert isinstance(result, Quarantined)
    assert result.error == type(exc).__name__


def test_memory_error_is_the_process_s_and_propagates() -> None:
    key, value, headers = sample_record("evt-1", "example.com")
    with pytest.raises(MemoryError):
        Processor(_mapper_raising(MemoryError()), _PLAIN).process(_record(key, value, headers))


def test_an_event_over_the_topic_limit_is_quarantined_as_too_large() -> None:
    key, _, headers = sample_record("evt-1", "example.com")
    small = Processor(SAMPLE_MAPPERS, _PLAIN, max_event_bytes=2048, max_quarantine_bytes=1 << 20)
    body = orjson.dumps({"id": "evt-1", "kind": "inflate", "domain": "example.com", "text": "ab", "repeat": 2000})

    result = small.process(_record(key, body, headers))

    assert _reason(result) is QuarantineReason.TOO_LARGE
    assert isinstance(result, Quarantined)
    assert result.record.value == body  # the raw record, as it came


def test_a_quarantine_record_over_its_topic_limit_keeps_an_excerpt_and_its_lineage() -> None:
    key, _, headers = sample_record("evt-1", "example.com")
    body = b"not json " * 1000
    small = Processor(SAMPLE_MAPPERS, _PLAIN, max_quarantine_bytes=4096)

    result = small.process(_record(key, body, headers, offset=42))

    assert isinstance(result, Quarantined)
    assert result.reason is QuarantineReason.INVALID_JSON
    assert body.startswith(result.record.value or b"")
    assert len(result.record.value or b"") < 4096
    assert _header(result.record.headers, "quarantine-truncated") == str(len(body))
    assert _header(result.record.headers, "raw-offset") == "42"


def test_an_opensrs_mail_in_a_wide_charset_that_maps_to_an_event_over_1_mib_is_too_large() -> None:
    # Issue 12: an 840 KB notification in a two-byte charset became a 1.26 MB event (three bytes a character in
    # UTF-8), which the producer refused, so the stage stopped on it at every restart.
    event = {
        "event_id": "7a1c0d5e9b3f4a2c8d6e0f1a2b3c4d5e",
        "object": "DOMAIN",
        "event": "CREATED",
        "event_date": "2026-05-01T00:00:00Z",
        "object_data": {"domain_name": "example.com", "domain_id": "1", "notes": "\u4e2d" * 420_000},
    }
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = f"Event notification: DOMAIN: CREATED: {event['event_id']}"
    message.set_content(orjson.dumps(event).decode(), charset="gb18030", cte="8bit")
    body = message.as_bytes()
    assert 800_000 < len(body) < 1_000_000
    headers = RawHeaders(
        source=Source.OPENSRS,
        transport=Transport.EMAIL,
        content_type="message/rfc822",
        provider_event_id=str(event["event_id"]),
        provider_event_type="DOMAIN.CREATED",
    ).to_kafka()
    mappers = {Source.OPENSRS: Mapper(Source.OPENSRS, opensrs_mapping.MAPPER_VERSION, opensrs_mapping.map_record)}

    result = Processor(mappers, _PLAIN).process(_record(b"opensrs:x", body, headers))

    assert _reason(result) is QuarantineReason.TOO_LARGE
    assert isinstance(result, Quarantined)
    assert result.record.value == body
