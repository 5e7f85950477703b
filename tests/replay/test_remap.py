"""Re-normalizing ranges of the raw topic and redriving the quarantine, on the real broker."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from regpipe.contract.cloudevents import from_kafka_record
from regpipe.contract.sealing import RawSealer
from regpipe.normalize.processor import Mapped, Processor, Quarantined
from regpipe.normalize.registry import default_mappers
from regpipe.replay.errors import RangeError
from regpipe.replay.ranges import RangeSpec, TopicReader
from regpipe.replay.remap import RemapTopics, redrive_quarantine, renormalize
from tests.normalize.provider_stream import coldmail_stream
from tests.normalize.topic_io import StageTopics, create_stage_topics, produce, read_all

pytestmark = pytest.mark.integration

_PROCESSOR = Processor(default_mappers(), RawSealer({}, None))


def _remap_topics(topics: StageTopics) -> RemapTopics:
    return RemapTopics(raw=topics.raw, normalized=topics.normalized, quarantine=topics.quarantine)


def _expected_ids(raw_records: list[Any]) -> set[uuid.UUID]:
    ids: set[uuid.UUID] = set()
    for record in raw_records:
        result = _PROCESSOR.process(record)
        if isinstance(result, Mapped):
            ids.update(event.id for event in result.events)
    return ids


async def test_renormalize_one_partition_by_offsets_publishes_exactly_that_range(kafka_bootstrap: str) -> None:
    topics = await create_stage_topics(kafka_bootstrap)
    await produce(kafka_bootstrap, topics.raw, coldmail_stream(90, broken_every=10))
    raw = [r for r in await read_all(kafka_bootstrap, topics.raw) if r.partition == 1]
    chosen = [r for r in raw if 5 <= r.offset < 15]

    report = await renormalize(
        kafka_bootstrap, _PROCESSOR, RangeSpec(partition=1, from_offset=5, to_offset=15), topics=_remap_topics(topics)
    )

    published = [
        from_kafka_record(r.value, list(r.headers)) for r in await read_all(kafka_bootstrap, topics.normalized)
    ]
    assert {event.id for event in published} == _expected_ids(chosen)
    assert {(e.lineage.partition, e.lineage.offset) for e in published if e.lineage} <= {(1, o) for o in range(5, 15)}
    assert all(not event.correction for event in published)
    assert report.read == 10
    assert report.mapped + sum(report.failed.values()) == 10
    assert report.published == report.events == len(published)
    # Failures are reported, not quarantined again: the first pass did that.
    assert await read_all(kafka_bootstrap, topics.quarantine) == []


async def test_renormalize_by_time_with_corrections(kafka_bootstrap: str) -> None:
    topics = await create_stage_topics(kafka_bootstrap)
    await produce(kafka_bootstrap, topics.raw, coldmail_stream(20, seed=3, broken_every=0))
    await asyncio.sleep(0.2)
    middle = datetime.now(UTC)
    await asyncio.sleep(0.2)
    later = coldmail_stream(12, seed=4, broken_every=0)
    await produce(kafka_bootstrap, topics.raw, later)
    later_keys = {key for key, _, _ in later}

    processor = Processor(default_mappers(), RawSealer({}, None), correction=True)
    report = await renormalize(kafka_bootstrap, processor, RangeSpec(from_time=middle), topics=_remap_topics(topics))

    published = [
        from_kafka_record(r.value, list(r.headers)) for r in await read_all(kafka_bootstrap, topics.normalized)
    ]
    raw_later = [r for r in await read_all(kafka_bootstrap, topics.raw) if r.key in later_keys]
    assert report.read == len(later)
    assert {event.id for event in published} == _expected_ids(raw_later)
    assert all(event.correction for event in published)


async def test_dry_run_publishes_nothing(kafka_bootstrap: str) -> None:
    topics = await create_stage_topics(kafka_bootstrap)
    await produce(kafka_bootstrap, topics.raw, coldmail_stream(30, seed=5, broken_every=6))

    report = await renormalize(kafka_bootstrap, _PROCESSOR, RangeSpec(), topics=_remap_topics(topics), dry_run=True)

    assert (report.read, report.published) == (30, 0)
    assert report.mapped == 25
    assert sum(report.failed.values()) == 5
    assert await read_all(kafka_bootstrap, topics.normalized) == []


async def test_an_unknown_topic_or_partition_is_a_range_error(kafka_bootstrap: str) -> None:
    topics = await create_stage_topics(kafka_bootstrap)
    async with TopicReader(kafka_bootstrap) as reader:
        with pytest.raises(RangeError):
            await reader.resolve(topics.raw + ".missing", RangeSpec())
        with pytest.raises(RangeError):
            await reader.resolve(topics.raw, RangeSpec(partition=9))


async def test_redrive_publishes_what_maps_now_and_reports_or_requarantines_the_rest(kafka_bootstrap: str) -> None:
    topics = await create_stage_topics(kafka_bootstrap)
    stream = coldmail_stream(40, seed=6, broken_every=4)
    await produce(kafka_bootstrap, topics.raw, stream)
    # The first pass had no Cold Mail mapper: everything was quarantined (unknown_source, or a body problem that
    # a mapper-less pass cannot see either).
    first_pass = Processor({}, RawSealer({}, None))
    raw = await read_all(kafka_bootstrap, topics.raw)
    quarantined = [first_pass.process(r) for r in raw]
    assert all(isinstance(q, Quarantined) for q in quarantined)
    await produce(
        kafka_bootstrap,
        topics.quarantine,
        [(q.record.key, q.record.value, q.record.headers) for q in quarantined if isinstance(q, Quarantined)],
    )
    position = {r.key: (r.partition, r.offset) for r in raw}

    report = await redrive_quarantine(
        kafka_bootstrap,
        _PROCESSOR,
        RangeSpec(),
        reasons=["unknown_source"],
        requarantine=True,
        topics=_remap_topics(topics),
    )

    published = [
        from_kafka_record(r.value, list(r.headers)) for r in await read_all(kafka_bootstrap, topics.normalized)
    ]
    assert {event.id for event in published} == _expected_ids(raw)
    # Lineage points at the original raw record, not at the quarantine record.
    for event in published:
        assert event.lineage is not None
        assert event.lineage.topic == topics.raw
    assert {(e.lineage.partition, e.lineage.offset) for e in published if e.lineage} <= set(position.values())
    assert report.read == 40
    assert report.mapped == 30
    assert dict(report.failed) == {
        "invalid_json": 3,
        "unknown_event_type": 3,
        "schema_violation": 2,
        "invalid_domain": 2,
    }
    # Still failing ones are quarantined again, with their new reason and the original raw position.
    requarantined = [
        (record.key, {name: value.decode() for name, value in record.headers})
        for record in await read_all(kafka_bootstrap, topics.quarantine)
        if dict(record.headers)["quarantine-reason"] != b"unknown_source"
    ]
    assert len(requarantined) == report.requarantined == 10
    for key, headers in requarantined:
        assert headers["quarantine-reason"] in report.failed
        assert (int(headers["raw-partition"]), int(headers["raw-offset"])) == position[key]


async def test_redrive_filters_by_reason_and_source(kafka_bootstrap: str) -> None:
    topics = await create_stage_topics(kafka_bootstrap)
    stream = coldmail_stream(12, seed=7, broken_every=3)
    await produce(kafka_bootstrap, topics.raw, stream)
    raw = await read_all(kafka_bootstrap, topics.raw)
    quarantined = [q for q in (_PROCESSOR.process(r) for r in raw) if isinstance(q, Quarantined)]
    await produce(
        kafka_bootstrap, topics.quarantine, [(q.record.key, q.record.value, q.record.headers) for q in quarantined]
    )

    by_reason = await redrive_quarantine(
        kafka_bootstrap, _PROCESSOR, RangeSpec(), reasons=["invalid_json"], topics=_remap_topics(topics), dry_run=True
    )
    by_source = await redrive_quarantine(
        kafka_bootstrap, _PROCESSOR, RangeSpec(), sources=["most"], topics=_remap_topics(topics), dry_run=True
    )

    invalid_json = sum(1 for q in quarantined if q.reason.value == "invalid_json")
    assert invalid_json > 0
    assert (by_reason.read, by_reason.skipped) == (len(quarantined), len(quarantined) - invalid_json)
    assert dict(by_reason.failed) == {"invalid_json": invalid_json}
    assert (by_source.read, by_source.skipped) == (len(quarantined), len(quarantined))
