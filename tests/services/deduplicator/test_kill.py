"""Kill the deduplicator service with SIGKILL mid-stream: after a restart every id is on the public topic once."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from regpipe.contract import from_kafka_record
from tests.dedup.events import expiring
from tests.kafka_io import committed_offsets, create_topics, produce_events, read_topic, unique
from tests.service_process import ServiceUnderTest

pytestmark = pytest.mark.integration

_UNIQUE = 10_000
_DUPLICATES = 5_000


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
    service.start()
    try:
        # Kill it once it has started publishing, well before the end of the stream.
        for _ in range(300):
            if "partition opened" in service.log:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail(f"the stage never opened a partition; log:\n{service.log[-3000:]}")
        await asyncio.sleep(0.5)
        service.kill()
        at_kill = await read_topic(kafka_bootstrap, topics["DEDUP_OUTPUT_TOPIC"], timeout_s=2, settle_s=0.5)
        killed_at = len(at_kill)
        assert 0 < killed_at < _UNIQUE, f"not killed mid-stream ({killed_at} of {_UNIQUE} published)"
        service.start()
        out = await read_topic(kafka_bootstrap, topics["DEDUP_OUTPUT_TOPIC"], expect=_UNIQUE, timeout_s=90)
    finally:
        service.stop()
    published = [from_kafka_record(r.value, list(r.headers)).id for r in out]
    assert len(published) == _UNIQUE, f"{len(published)} published, killed after {killed_at}"
    assert set(published) == set(ids)
    committed, ends = await committed_offsets(kafka_bootstrap, env["DEDUP_GROUP_ID"], topics["DEDUP_INPUT_TOPIC"])
    assert committed == ends
