"""The deduplicator stage on the real broker: each id once, collisions kept, corrections through, offsets committed."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from regpipe.contract import from_kafka_record, to_kafka_record
from regpipe.dedup import DedupConfig, DedupStage
from regpipe.dedup.decision import collision_id
from regpipe.dedup.fingerprint import fingerprint
from regpipe.streaming.quarantine import QUARANTINE_HEADERS, read_quarantine_record
from tests.dedup.events import expiring
from tests.dedup.stage_factory import dedup_stage
from tests.kafka_io import committed_offsets, create_topics, produce_events, read_topic, unique, wait_until_committed
from tests.normalize.topic_io import produce

pytestmark = pytest.mark.integration


def _config(tag: str) -> DedupConfig:
    return DedupConfig(
        group_id=f"dedup-{tag}",
        input_topic=f"normalized-{tag}",
        output_topic=f"events-{tag}",
        changelog_topic=f"state-{tag}",
        quarantine_topic=f"quarantine-{tag}",
        transactional_id_prefix=f"dedup-{tag}",
        poll_timeout_ms=100,
    )


async def _topics(bootstrap: str, config: DedupConfig) -> None:
    await create_topics(
        bootstrap, [config.input_topic, config.output_topic, config.changelog_topic, config.quarantine_topic]
    )


async def _run_until(stage: DedupStage, done: asyncio.Future[None]) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(stage.run(stop))
    try:
        await asyncio.wait_for(asyncio.shield(done), timeout=60)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def test_publishes_each_id_once_keeps_collisions_and_corrections(kafka_bootstrap: str) -> None:
    config = _config(unique("t"))
    await _topics(kafka_bootstrap, config)
    ids = [uuid.uuid4() for _ in range(40)]
    first = [expiring(i, domain=f"d{n}.example") for n, i in enumerate(ids)]
    again = first[:25]  # same content, e.g. the e-mail copy of a polled event
    collided = expiring(ids[0], domain="d0.example", checkpoint=1)  # same id, different payload
    correction = expiring(ids[1], domain="d1.example", checkpoint=2, correction=True)
    await produce_events(kafka_bootstrap, config.input_topic, [*first, *again, collided, collided, correction])

    stage = dedup_stage(kafka_bootstrap, config)
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    async def watch() -> None:
        records = await read_topic(kafka_bootstrap, config.output_topic, expect=42, timeout_s=45)
        done.set_result(None) if len(records) >= 42 else done.set_exception(AssertionError(len(records)))

    watcher = asyncio.create_task(watch())
    await _run_until(stage, done)
    await watcher

    out = await read_topic(kafka_bootstrap, config.output_topic, expect=42, timeout_s=10)
    events = [from_kafka_record(r.value, list(r.headers)) for r in out]
    plain = [e for e in events if not e.correction]
    published_ids = [e.id for e in plain]
    assert len(published_ids) == len(set(published_ids)) == 41
    assert set(ids) <= set(published_ids)
    assert collision_id(ids[0], fingerprint(collided)) in published_ids
    assert [e.id for e in events if e.correction] == [ids[1]]
    committed, ends = await committed_offsets(kafka_bootstrap, config.group_id, config.input_topic)
    assert committed == ends


async def test_a_new_replica_remembers_what_was_published(kafka_bootstrap: str) -> None:
    config = _config(unique("t"))
    await _topics(kafka_bootstrap, config)
    ids = [uuid.uuid4() for _ in range(10)]
    await produce_events(kafka_bootstrap, config.input_topic, [expiring(i) for i in ids])
    for _ in range(2):  # the second stage starts from committed offsets and the changelog
        stage = dedup_stage(kafka_bootstrap, config)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def settle(fut: asyncio.Future[None] = done) -> None:
            await read_topic(kafka_bootstrap, config.output_topic, expect=10, timeout_s=30)
            fut.set_result(None)

        watcher = asyncio.create_task(settle())
        await _run_until(stage, done)
        await watcher
        # Replay the same events, as a re-normalization of raw would.
        await produce_events(kafka_bootstrap, config.input_topic, [expiring(i) for i in ids])
    stage = dedup_stage(kafka_bootstrap, config)
    stop = asyncio.Event()
    task = asyncio.create_task(stage.run(stop))
    # It has seen every replay once it committed the input's end; a fixed wait was too short on a busy machine.
    await wait_until_committed(kafka_bootstrap, config.group_id, config.input_topic, timeout_s=120)
    stop.set()
    await asyncio.wait_for(task, timeout=30)
    out = await read_topic(kafka_bootstrap, config.output_topic, timeout_s=3)
    assert sorted(from_kafka_record(r.value, list(r.headers)).id for r in out) == sorted(ids)
    committed, ends = await committed_offsets(kafka_bootstrap, config.group_id, config.input_topic)
    assert committed == ends


async def test_a_record_that_is_no_canonical_event_is_quarantined_with_the_headers_every_stage_writes(
    kafka_bootstrap: str,
) -> None:
    config = _config(unique("t"))
    await _topics(kafka_bootstrap, config)
    broken = to_kafka_record(expiring(uuid.uuid4(), mapper_version="most/2.1.0"))
    await produce(kafka_bootstrap, config.input_topic, [(broken.key, b"{not json", broken.headers)])
    stage = dedup_stage(kafka_bootstrap, config)
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def watch() -> None:
        await read_topic(kafka_bootstrap, config.quarantine_topic, expect=1, timeout_s=45)
        done.set_result(None)

    watcher = asyncio.create_task(watch())
    await _run_until(stage, done)
    await watcher

    quarantined = await read_topic(kafka_bootstrap, config.quarantine_topic, expect=1, timeout_s=10)
    assert len(quarantined) == 1
    names = [name for name, _ in quarantined[0].headers if name in QUARANTINE_HEADERS]
    assert sorted(names) == sorted(QUARANTINE_HEADERS)  # the normalizer's set, each once
    info, original = read_quarantine_record(quarantined[0])
    assert (info.stage, info.reason, info.mapper_version) == ("deduplicator", "invalid_canonical_event", "most/2.1.0")
    assert (original.key, original.value, list(original.headers)) == (broken.key, b"{not json", broken.headers)
    assert (original.topic, original.offset) == (config.input_topic, 0)
    assert await read_topic(kafka_bootstrap, config.output_topic, timeout_s=1) == []
    committed, ends = await committed_offsets(kafka_bootstrap, config.group_id, config.input_topic)
    assert committed == ends
