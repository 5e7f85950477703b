"""Production runs several brokers: on a three-node cluster (replication 3, min.insync.replicas 2) the broker that
leads the most partitions is SIGKILLed while 20,000 events flow, then restarted. Every event is on the public
topic exactly once, no stage stops, and the time each stage needed to move again is reported."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from regpipe.contract import from_kafka_record
from regpipe.kafka import ensure_topics
from regpipe.kafka.topics import Topic
from regpipe.stack.kafka_cluster import KafkaCluster
from tests.conditions import eventually_async
from tests.kafka_io import committed_total, produce_records, read_topic, wait_until_committed
from tests.normalize.provider_stream import coldmail_stream, expected_outcome
from tests.service_process import ServiceUnderTest

# Each step waits on its own condition with its own deadline; the whole test moves tens of thousands of records
# through several processes, which on a busy machine takes longer than the suite's default limit.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

_EVENTS = 20_000


@pytest.fixture
async def cluster() -> AsyncIterator[KafkaCluster]:
    folder = Path(tempfile.mkdtemp(prefix="regpipe-failover-"))
    nodes = KafkaCluster(folder)
    await nodes.astart()
    try:
        yield nodes
    finally:
        await nodes.astop()
        shutil.rmtree(folder, ignore_errors=True)


async def _progress(bootstrap: str, watched: dict[str, tuple[str, str]]) -> dict[str, int]:
    return {stage: await committed_total(bootstrap, group, topic) for stage, (group, topic) in watched.items()}


async def test_losing_the_busiest_broker_loses_nothing_and_doubles_nothing(
    cluster: KafkaCluster, tmp_path: Path
) -> None:
    bootstrap = cluster.bootstrap_servers
    await ensure_topics(bootstrap, replication_factor=3)
    records = coldmail_stream(_EVENTS, broken_every=0)
    expected = expected_outcome(records)
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "NORMALIZER_BATCH_MAX": "200", "DEDUP_BATCH_MAX": "200"}
    (tmp_path / "n").mkdir()
    (tmp_path / "d").mkdir()
    normalizer = ServiceUnderTest("normalizer", env, tmp_path / "n")
    deduplicator = ServiceUnderTest("deduplicator", env, tmp_path / "d")
    watched = {
        "normalizer": ("regpipe-normalizer", Topic.RAW.value),
        "deduplicator": ("regpipe-deduplicator", Topic.NORMALIZED.value),
    }
    half = _EVENTS // 2
    recovery: dict[str, float] = {}
    normalizer.start()
    deduplicator.start()
    try:
        await produce_records(bootstrap, Topic.RAW.value, records[:half])

        async def both_moving() -> bool:
            progress = await _progress(bootstrap, watched)
            return all(count > 0 for count in progress.values())

        await eventually_async(both_moving, "both stages committed something", timeout_s=180)
        leaders = await cluster.partition_leaders([topic.value for topic in TOPICS_WATCHED])
        victim = max(leaders, key=lambda node: leaders[node])
        before = await _progress(bootstrap, watched)
        killed_at = time.monotonic()
        cluster.kill(victim)
        producing = asyncio.create_task(produce_records(bootstrap, Topic.RAW.value, records[half:]))

        async def moved_again() -> bool:
            now = await _progress(bootstrap, watched)
            for stage, count in now.items():
                if stage not in recovery and count > before[stage]:
                    recovery[stage] = time.monotonic() - killed_at
            return len(recovery) == len(watched)

        await eventually_async(moved_again, "every stage commits again with one broker down", timeout_s=240)
        await cluster.restart(victim)
        await producing
        await wait_until_committed(bootstrap, *watched["normalizer"], timeout_s=300)
        await wait_until_committed(bootstrap, *watched["deduplicator"], timeout_s=300)
        published = await read_topic(bootstrap, Topic.EVENTS.value, expect=_EVENTS, timeout_s=120, settle_s=3)
        assert normalizer.returncode is None, "the normalizer stopped:\n" + normalizer.log[-3000:]
        assert deduplicator.returncode is None, "the deduplicator stopped:\n" + deduplicator.log[-3000:]
    finally:
        normalizer.stop()
        deduplicator.stop()

    ids = [from_kafka_record(record.value, list(record.headers)).id for record in published]
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} ids published twice"
    assert set(ids) == expected.ids
    print(f"broker {victim} killed; seconds until each stage committed again: {recovery}")


TOPICS_WATCHED = (Topic.RAW, Topic.NORMALIZED, Topic.EVENTS, Topic.DEDUP_STATE)
