"""The deduplicator's decoding: the strict fast path reads what the normalizer writes exactly as the contract's
tolerant reader does; a newer producer's extra field still decodes; a malformed record is one `InvalidEventError`
that never quotes the record."""

from __future__ import annotations

import uuid

import orjson
import pytest

from regpipe.contract import from_kafka_record, to_kafka_record
from regpipe.dedup.decoding import decode_event
from regpipe.dedup.errors import InvalidEventError
from tests.dedup.events import expiring

_LINEAGE = [("ce_rawtopic", b"registrar.raw.v1"), ("ce_rawpartition", b"2"), ("ce_rawoffset", b"7")]


def test_what_the_normalizer_writes_decodes_as_the_contract_reads_it() -> None:
    for event in (expiring(uuid.uuid4()), expiring(uuid.uuid4(), correction=True, provider_fields={"a": "b"})):
        record = to_kafka_record(event)
        headers = [*record.headers, *_LINEAGE]
        assert decode_event(record.value, headers) == from_kafka_record(record.value, headers)


def test_a_field_added_by_a_newer_producer_is_dropped_not_refused() -> None:
    event = expiring(uuid.uuid4())
    record = to_kafka_record(event)
    value = orjson.dumps({**orjson.loads(record.value), "added_later": 1})
    assert decode_event(value, record.headers) == event


@pytest.mark.parametrize(
    ("name", "value"),
    [("ce_subject", b"\xffsecret"), ("ce_rawoffset", b"-1"), ("ce_rawoffset", b"secret"), ("ce_type", b"secret")],
)
def test_a_malformed_header_is_an_invalid_event_whose_message_quotes_nothing(name: str, value: bytes) -> None:
    record = to_kafka_record(expiring(uuid.uuid4()))
    headers = [(n, v) for n, v in [*record.headers, *_LINEAGE] if n != name] + [(name, value)]
    with pytest.raises(InvalidEventError) as caught:
        decode_event(record.value, headers)
    assert "secret" not in str(caught.value)
    assert str(caught.value)
