"""Issue 12 on the deduplicator, on the real broker: no record of `registrar.normalized.v1`, however malformed or
large, stops the stage; each becomes a quarantine record with a reason and the records after it are published."""

from __future__ import annotations

import uuid

import pytest

from regpipe.contract import from_kafka_record
from regpipe.normalize.processor import normalized_record
from regpipe.streaming.quarantine import TRUNCATED_HEADER, read_quarantine_record
from tests.dedup.events import expiring
from tests.dedup.harness import create_dedup_topics, dedup_config, run_stage_until
from tests.kafka_io import committed_offsets, produce_records, read_all

pytestmark = pytest.mark.integration

_SECRET = "s3cr3t-value-never-quoted"


def _with_header(headers: list[tuple[str, bytes]], name: str, value: bytes) -> list[tuple[str, bytes]]:
    return [*((n, v) for n, v in headers if n != name), (name, value)]


async def test_malformed_and_oversized_records_are_quarantined_with_a_reason_and_the_stage_moves_on(
    kafka_bootstrap: str,
) -> None:
    # Small limits on the public and quarantine topics, so that "too large" is cheap to reach.
    config = dedup_config(max_output_bytes=4_000, max_quarantine_bytes=3_000)
    await create_dedup_topics(kafka_bootstrap, config, partitions=1)
    template = normalized_record(expiring(uuid.uuid4()))
    headers = [
        *template.headers,
        ("ce_rawtopic", b"registrar.raw.v1"),
        ("ce_rawpartition", b"0"),
        ("ce_rawoffset", b"1"),
    ]
    huge = normalized_record(expiring(uuid.uuid4(), provider_fields={"note": "x" * 5_000}))
    good = [expiring(uuid.uuid4(), domain=f"g{n}.example") for n in range(3)]
    broken = [
        (template.key, template.value, _with_header(headers, "ce_subject", b"\xff\xfe" + _SECRET.encode())),
        (template.key, template.value, _with_header(headers, "ce_rawoffset", b"-1")),
        (template.key, template.value, _with_header(headers, "ce_rawoffset", _SECRET.encode())),
        (template.key, template.value, _with_header(headers, "ce_time", _SECRET.encode())),
        (template.key, b"\x80\x81" + _SECRET.encode(), headers),
        (template.key, None, headers),
        (huge.key, huge.value, list(huge.headers)),
    ]
    records = [*broken, *((r.key, r.value, list(r.headers)) for r in map(normalized_record, good))]
    await produce_records(kafka_bootstrap, config.input_topic, records)

    async def settled() -> bool:
        committed, ends = await committed_offsets(kafka_bootstrap, config.group_id, config.input_topic)
        return bool(ends) and committed == ends

    await run_stage_until(kafka_bootstrap, config, settled, "every input record committed")

    published = [
        from_kafka_record(r.value, list(r.headers)) for r in await read_all(kafka_bootstrap, config.output_topic)
    ]
    assert [e.id for e in published] == [e.id for e in good]
    quarantined = [read_quarantine_record(r) for r in await read_all(kafka_bootstrap, config.quarantine_topic)]
    reasons = [info.reason for info, _ in quarantined]
    assert reasons == ["invalid_canonical_event"] * 6 + ["output_too_large"]
    assert all(info.stage == "deduplicator" and info.message for info, _ in quarantined)
    assert all(_SECRET not in info.message for info, _ in quarantined)
    assert [raw.offset for _, raw in quarantined] == list(range(7))
    # The oversized event's quarantine record did not fit either: a bounded excerpt, its full length said.
    _too_large, raw = quarantined[-1]
    assert dict(raw.headers)[TRUNCATED_HEADER] == str(len(huge.value)).encode()
    assert raw.value is not None
    assert 0 < len(raw.value) < len(huge.value)
