"""The stage on the real broker: every good record ends up on normalized, every bad one in quarantine with its
reason, and the group's committed offsets reach the end of the raw topic; a failing output stops it uncommitted."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections import Counter

import pytest
from prometheus_client import REGISTRY

from regpipe.contract.cloudevents import from_kafka_record
from regpipe.contract.raw import RawHeaders
from regpipe.contract.sealing import RawSealer, parse_keyring
from regpipe.contract.taxonomy import Source, Transport
from regpipe.normalize.errors import StageError
from regpipe.normalize.processor import Processor
from regpipe.normalize.registry import default_mappers
from regpipe.replay.groups import committed_offsets
from tests.normalize.provider_stream import coldmail_stream, expected_outcome
from tests.normalize.sample_mapper import SAMPLE_MAPPERS, expected_id, sample_record
from tests.normalize.stage_factory import normalizer_stage
from tests.normalize.topic_io import (
    RawTuple,
    committed_total,
    create_stage_topics,
    produce,
    read_all,
    wait_until_committed,
    wait_until_committed_at_least,
)

pytestmark = pytest.mark.integration

_SEALER = RawSealer(parse_keyring(f"k1:{base64.b64encode(bytes(range(32))).decode()}"), "k1")


def _bad_records(run: str) -> dict[bytes, tuple[RawTuple, str]]:
    """Raw key -> (record, expected quarantine reason), one of each kind of bad record."""

    def body(tag: str, value: bytes, content_type: str = "application/json") -> RawTuple:
        return sample_record(f"{run}-{tag}", "", body=value, content_type=content_type)

    headers_only_source = [("source", b"most")]
    unknown_source = RawHeaders(source=Source.OPUSDNS, transport=Transport.POLL).to_kafka()
    foreign_seal = RawHeaders(source=Source.MOST, transport=Transport.WEBHOOK, seal="k-gone").to_kafka()
    cases: list[tuple[RawTuple, str]] = [
        (body("bytes", b"\xff\xfe\x00\x01"), "unreadable_bytes"),
        (body("json", b'{"id": "x", "kind":'), "invalid_json"),
        (body("xml", b"<event id='x' kind=", "application/xml"), "invalid_xml"),
        (body("schema", b'{"id": 5, "kind": "expiring", "domain": "example.com"}'), "schema_violation"),
        (body("type", b'{"id": "x", "kind": "transferred", "domain": "example.com"}'), "unknown_event_type"),
        (body("bug", b'{"id": "x", "kind": "explode"}'), "mapper_error"),
        (body("domain", b'{"id": "x", "kind": "expiring", "domain": "bad domain.com"}'), "invalid_domain"),
        ((f"{run}-headers".encode(), b"{}", headers_only_source), "invalid_headers"),
        ((f"{run}-source".encode(), b"{}", unknown_source), "unknown_source"),
        ((f"{run}-seal".encode(), b"0123456789abcdef0123", foreign_seal), "unsealable"),
    ]
    return {record[0] or b"": (record, reason) for record, reason in cases}


def _sealed_good(run: str, index: int) -> RawTuple:
    key, value, _ = sample_record(f"{run}-sealed-{index}", f"sealed-{index}-{run}.example")
    sealed, kid = _SEALER.seal(value)
    headers = RawHeaders(source=Source.MOST, transport=Transport.WEBHOOK, seal=kid).to_kafka()
    return key, sealed, headers


async def test_mixed_stream_lands_on_normalized_or_quarantine_and_is_committed(kafka_bootstrap: str) -> None:
    topics = await create_stage_topics(kafka_bootstrap)
    run = uuid.uuid4().hex[:8]
    good = [sample_record(f"{run}-{i}", f"d{i}-{run}.example") for i in range(120)]
    duplicates = good[:15]  # the same provider events delivered twice
    sealed = [_sealed_good(run, i) for i in range(5)]
    bad = _bad_records(run)
    stream = good + duplicates + sealed + [record for record, _ in bad.values()]
    await produce(kafka_bootstrap, topics.raw, stream)

    mapper_errors_before = _mapper_errors()
    stage = normalizer_stage(kafka_bootstrap, Processor(SAMPLE_MAPPERS, _SEALER), topics.config(batch_max=40))
    stop = asyncio.Event()
    task = asyncio.create_task(stage.run(stop))
    try:
        await wait_until_committed(kafka_bootstrap, topics.group_id, topics.raw)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)

    events = [from_kafka_record(r.value, list(r.headers)) for r in await read_all(kafka_bootstrap, topics.normalized)]
    ids = Counter(event.id for event in events)
    wanted = {expected_id(f"{run}-{i}") for i in range(120)} | {expected_id(f"{run}-sealed-{i}") for i in range(5)}
    assert set(ids) == wanted
    assert all(ids[expected_id(f"{run}-{i}")] == 2 for i in range(15))  # duplicates are the deduplicator's job
    assert all(event.partition_key == event.subject for event in events)

    quarantined = await read_all(kafka_bootstrap, topics.quarantine)
    reasons = {r.key: dict(r.headers)["quarantine-reason"].decode() for r in quarantined}
    assert reasons == {key: reason for key, (_, reason) in bad.items()}
    assert len(quarantined) == len(bad)
    for record in quarantined:
        _, original_value, original_headers = bad[record.key][0]
        assert record.value == original_value  # still sealed, byte for byte
        assert list(record.headers)[: len(original_headers)] == original_headers
    # The mapper bug is counted where operators look.
    assert _mapper_errors() == mapper_errors_before + 1


def _mapper_errors() -> float:
    return REGISTRY.get_sample_value("regpipe_mapper_errors_total", {"source": "most", "error": "KeyError"}) or 0.0


async def test_a_batch_that_cannot_be_published_is_not_committed(kafka_bootstrap: str) -> None:
    topics = await create_stage_topics(kafka_bootstrap)
    run = uuid.uuid4().hex[:8]
    await produce(kafka_bootstrap, topics.raw, [sample_record(f"{run}-0", "", body=b"not json")])
    # The quarantine topic does not exist (and the broker creates none): the bad record can go nowhere.
    config = topics.config(quarantine_topic=f"test.missing.{run}", ack_timeout_s=3.0)
    stage = normalizer_stage(kafka_bootstrap, Processor(SAMPLE_MAPPERS, _SEALER), config)

    with pytest.raises(StageError):
        await asyncio.wait_for(stage.run(asyncio.Event()), 60)

    assert await committed_offsets(kafka_bootstrap, topics.group_id, topics.raw) == {}
    assert await read_all(kafka_bootstrap, topics.normalized) == []


async def test_a_replica_joining_mid_stream_takes_over_after_what_is_committed(kafka_bootstrap: str) -> None:
    topics = await create_stage_topics(kafka_bootstrap, partitions=4)
    records = coldmail_stream(3000, seed=21)
    expected = expected_outcome(records)
    await produce(kafka_bootstrap, topics.raw, records)
    processor = Processor(default_mappers(), _SEALER)
    first = normalizer_stage(kafka_bootstrap, processor, topics.config(batch_max=50))
    second = normalizer_stage(kafka_bootstrap, processor, topics.config(batch_max=50))
    stop = asyncio.Event()
    tasks = [asyncio.create_task(first.run(stop))]
    try:
        await wait_until_committed_at_least(kafka_bootstrap, topics.group_id, topics.raw, 300)
        # The rebalance revokes the first replica's partitions while it has batches in flight.
        tasks.append(asyncio.create_task(second.run(stop)))
        assert await committed_total(kafka_bootstrap, topics.group_id, topics.raw) < len(records)
        await wait_until_committed(kafka_bootstrap, topics.group_id, topics.raw, timeout_s=90)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)

    published = [
        from_kafka_record(r.value, list(r.headers)).id for r in await read_all(kafka_bootstrap, topics.normalized)
    ]
    assert set(published) == expected.ids
    # What was in flight at the revocation was committed first, so the new owners did not map it again.
    assert len(published) == len(expected.ids)
