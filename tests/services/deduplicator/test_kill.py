"""Kill the deduplicator service with SIGKILL mid-stream: after a restart every id is on the public topic once."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from regpipe.contract import from_kafka_record
from regpipe.replay.groups import committed_offsets
from regpipe.replay.ranges import RangeSpec, TopicReader
from tests.conditions import eventually_async
from tests.dedup.events import expiring
from tests.kafka_io import create_topics, produce_events, read_topic, unique
from tests.service_process import ServiceUnderTest

pytestmark = pytest.mark.integration

_UNIQUE = 10_000
_DUPLICATES = 5_000


async def _committed_of_total(bootstrap: str, group: str, topic: str) -> tuple[int, int]:
    """(input records `group` committed, input records in `topic`) over every partition, as the broker says
    (through the replay tooling's admin calls, which retry while the group has no coordinator yet)."""
    async with TopicReader(bootstrap) as reader:
        ranges = await reader.resolve(topic, RangeSpec())
    return sum((await committed_offsets(bootstrap, group, topic)).values()), sum(r.end for r in ranges)


async def test_sigkill_mid_stream_loses_nothing_and_doubles_nothing(kafka_bootstrap: str, tmp_path: Path) -> None:
    tag = unique("kill")
    topics = {
        "DEDUP_INPUT_TOPIC": f"normalized-{tag}",
        "DEDUP_OUTPUT_TOPIC": f"events-{tag}",
        "DEDUP_CHANGELOG_TOPIC": f"state-{tag}",
        "DEDUP_QUARANTINE_TOPIC": f"quarantine-{tag}",
    }
    await create_topics(kafka_bootstrap, topics.values())
    ids = [uuid.uuid4() for _ in range(_UNIQUE)]
    events = [expiring(i, domain=f"d{n % 97}.example") for n, i in enumerate(ids)]
    # Duplicates interleaved with originals, as a provider retry or the e-mail copy of a polled event would be.
    stream = []
    for n, event in enumerate(events):
        stream.append(event)
        if n % 2 == 0:
            stream.append(event)
    assert len(stream) == _UNIQUE + _DUPLICATES
    await produce_events(kafka_bootstrap, topics["DEDUP_INPUT_TOPIC"], stream)

    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DEDUP_GROUP_ID": f"group-{tag}",
        "DEDUP_TRANSACTIONAL_ID_PREFIX": f"txn-{tag}",
        "DEDUP_BATCH_MAX": "50",
        **topics,
    }
    service = ServiceUnderTest("deduplicator", env, tmp_path)
    group, source = env["DEDUP_GROUP_ID"], topics["DEDUP_INPUT_TOPIC"]

    async def consumed() -> tuple[int, int]:
        return await _committed_of_total(kafka_bootstrap, group, source)

    async def started_committing() -> bool:
        return (await consumed())[0] > 0

    service.start()
    try:
        # Kill it once it has committed a first batch (a condition, not a pause: a loaded machine may take long to
        # get there), well before the end of the stream.
        await eventually_async(started_committing, "the deduplicator committed a first batch", timeout_s=90)
        service.kill()
        killed_at, total = await consumed()
        assert 0 < killed_at < total, f"not killed mid-stream ({killed_at} of {total} input records committed)"
        service.start()
        out = await read_topic(kafka_bootstrap, topics["DEDUP_OUTPUT_TOPIC"], expect=_UNIQUE, timeout_s=180)

        async def all_committed() -> bool:
            committed, total = await consumed()
            return committed == total == len(stream)

        # The last batches may hold only duplicates: their offsets are committed after the last event is out.
        await eventually_async(all_committed, "every input record committed", timeout_s=120)
    finally:
        service.stop()
    published = [from_kafka_record(r.value, list(r.headers)).id for r in out]
    assert len(published) == _UNIQUE, f"{len(published)} published, killed after {killed_at} input records"
    assert set(published) == set(ids)
