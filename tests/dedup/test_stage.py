"""The deduplicator stage on the real broker: each id once, collisions kept, corrections through, offsets committed."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from regpipe.contract import from_kafka_record
from regpipe.dedup import DedupConfig, DedupStage
from regpipe.dedup.decision import collision_id
from regpipe.dedup.fingerprint import fingerprint
from tests.dedup.events import expiring
from tests.kafka_io import committed_offsets, create_topics, produce_events, read_topic, unique

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

    stage = DedupStage(kafka_bootstrap, config)
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
        stage = DedupStage(kafka_bootstrap, config)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def settle(fut: asyncio.Future[None] = done) -> None:
            await read_topic(kafka_bootstrap, config.output_topic, expect=10, timeout_s=30)
            fut.set_result(None)

        watcher = asyncio.create_task(settle())
        await _run_until(stage, done)
        await watcher
        # Replay the same events, as a re-normalization of raw would.
        await produce_events(kafka_bootstrap, config.input_topic, [expiring(i) for i in ids])
    stage = DedupStage(kafka_bootstrap, config)
    stop = asyncio.Event()
    task = asyncio.create_task(stage.run(stop))
    await asyncio.sleep(5)
    stop.set()
    await asyncio.wait_for(task, timeout=30)
    out = await read_topic(kafka_bootstrap, config.output_topic, timeout_s=3)
    assert sorted(from_kafka_record(r.value, list(r.headers)).id for r in out) == sorted(ids)
    committed, ends = await committed_offsets(kafka_bootstrap, config.group_id, config.input_topic)
    assert committed == ends
