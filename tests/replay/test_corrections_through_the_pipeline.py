"""Replay after a mapper change, through the real pipeline: raw records normalized and deduplicated once, then a
range of them re-normalized with `--corrections` by a changed mapper. The public topic gains exactly the events
whose content changed, each once and marked as a correction; an unchanged re-mapping is a duplicate, and running
the same replay again adds nothing."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from regpipe.contract import CanonicalEvent, Outcome, Source, from_kafka_record
from regpipe.contract.sealing import RawSealer
from regpipe.normalize.processor import Processor
from regpipe.normalize.registry import Mapper, MapperRegistry, default_mappers
from regpipe.providers.mapper import RawInput
from regpipe.replay.ranges import RangeSpec
from regpipe.replay.remap import RemapTopics, renormalize
from tests.dedup.harness import create_dedup_topics, dedup_config, run_stage_until
from tests.kafka_io import committed_offsets
from tests.normalize.provider_stream import coldmail_stream
from tests.normalize.topic_io import create_stage_topics, produce, read_all

pytestmark = pytest.mark.integration

_CHANGED_VERSION = "coldmail/1.1.0-test"


def _changes(event: CanonicalEvent) -> bool:
    """The events the changed mapper renders differently: about half, chosen by id."""
    return event.id.int % 2 == 0


def _changed_mappers() -> MapperRegistry:
    """Today's mappers, with Cold Mail's at a new version that reports a different outcome for some events."""
    mappers = dict(default_mappers())
    original = mappers[Source.COLDMAIL]

    def map_record(raw: RawInput) -> list[CanonicalEvent]:
        out = []
        for event in original.map_record(raw):
            update: dict[str, object] = {"mapper_version": _CHANGED_VERSION}
            if _changes(event):
                update["outcome"] = Outcome.FAILURE if event.outcome is not Outcome.FAILURE else Outcome.SUCCESS
            out.append(event.model_copy(update=update))
        return out

    mappers[Source.COLDMAIL] = Mapper(Source.COLDMAIL, _CHANGED_VERSION, map_record)
    return MappingProxyType(mappers)


async def test_only_events_whose_content_changed_are_published_as_corrections(kafka_bootstrap: str) -> None:
    stage_topics = await create_stage_topics(kafka_bootstrap)
    config = dedup_config(input_topic=stage_topics.normalized)
    await create_dedup_topics(kafka_bootstrap, config)
    remap_topics = RemapTopics(
        raw=stage_topics.raw, normalized=stage_topics.normalized, quarantine=stage_topics.quarantine
    )
    await produce(kafka_bootstrap, stage_topics.raw, coldmail_stream(60, seed=11, broken_every=0))
    sealer = RawSealer({}, None)

    async def deduplicated() -> bool:
        committed, ends = await committed_offsets(kafka_bootstrap, config.group_id, config.input_topic)
        return bool(ends) and committed == ends

    async def public() -> list[CanonicalEvent]:
        return [
            from_kafka_record(r.value, list(r.headers)) for r in await read_all(kafka_bootstrap, config.output_topic)
        ]

    # The first pass: what the normalizer and the deduplicator published.
    await renormalize(kafka_bootstrap, Processor(default_mappers(), sealer), RangeSpec(), topics=remap_topics)
    await run_stage_until(kafka_bootstrap, config, deduplicated, "the first pass deduplicated")
    first = await public()
    assert first
    assert not any(event.correction for event in first)
    by_id = {event.id: event for event in first}
    assert len(by_id) == len(first)

    # The replay of a range (partition 1, everything) with the changed mapper, as corrections.
    replay = Processor(_changed_mappers(), sealer, correction=True)
    spec = RangeSpec(partition=1)
    report = await renormalize(kafka_bootstrap, replay, spec, topics=remap_topics)
    assert report.published > 0
    await run_stage_until(kafka_bootstrap, config, deduplicated, "the replay deduplicated")
    after = await public()
    corrections = [event for event in after if event.correction]
    assert sorted(event.id for event in after if not event.correction) == sorted(by_id)  # nothing else came

    replayed_ids = {event.id for event in first if event.lineage is not None and event.lineage.partition == 1}
    expected = {event_id for event_id in replayed_ids if _changes(by_id[event_id])}
    assert expected, "the range holds changed events"
    assert len(replayed_ids - expected) > 0, "and unchanged ones"
    assert sorted(event.id for event in corrections) == sorted(expected)
    assert all(event.correction for event in corrections)
    assert all(event.mapper_version == _CHANGED_VERSION for event in corrections)
    assert all(event.outcome is not by_id[event.id].outcome for event in corrections)

    # The same replay again publishes nothing new: its content is what the public topic already says.
    await renormalize(kafka_bootstrap, replay, spec, topics=remap_topics)
    await run_stage_until(kafka_bootstrap, config, deduplicated, "the second replay deduplicated")
    assert len(await public()) == len(first) + len(corrections)
