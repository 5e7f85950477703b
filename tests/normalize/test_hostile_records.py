"""Issue 12 on the real broker: no single record stops the normalizer. Each hostile record sits between good ones;
the stage must quarantine it with its reason, publish the good ones and commit the whole raw topic. Before the
fixes each of these stopped the stage (a producer refusal, an escaping exception) or held it (a spinning mapper).
"""

from __future__ import annotations

import asyncio
import uuid

import orjson
import pytest

from regpipe.contract.cloudevents import from_kafka_record
from regpipe.contract.sealing import RawSealer
from regpipe.kafka.topics import MAX_RECORD_BYTES
from regpipe.normalize.processor import Processor
from regpipe.streaming.record_size import record_size
from tests.normalize.sample_mapper import SAMPLE_MAPPERS, expected_id, sample_record
from tests.normalize.stage_factory import normalizer_stage
from tests.normalize.topic_io import RawTuple, create_stage_topics, produce, read_all, wait_until_committed

pytestmark = pytest.mark.integration

_PLAIN = RawSealer({}, None)


def _hostile(run: str, case: str) -> RawTuple:
    if case == "event_too_large":
        # 420 KB of raw JSON (escaped CJK text, 6 bytes a character) maps to an event over 1 MiB (3 bytes each).
        body = {"id": f"{run}-x", "kind": "inflate", "domain": "big.example", "text": "\u4e2d" * 70_000, "repeat": 5}
        return sample_record(f"{run}-x", "", body=orjson.dumps(body).replace("\u4e2d".encode(), b"\\u4e2d"))
    if case == "quarantine_too_large":
        # A raw record just under the limit that cannot be mapped: its quarantine record would be just over it.
        key, _, headers = sample_record(f"{run}-x", "", body=b"")
        room = MAX_RECORD_BYTES - record_size(key, b"", headers) - 64
        return key, b'{"id": "' + b"x" * (room - 10), headers
    kind = {"deadline_exceeded": "spin", "mapper_error": "runtime"}[case]
    return sample_record(f"{run}-x", "hostile.example", kind=kind)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("event_too_large", "too_large"),
        ("quarantine_too_large", "invalid_json"),
        ("deadline_exceeded", "deadline_exceeded"),
        ("mapper_error", "mapper_error"),
    ],
)
async def test_a_hostile_record_is_quarantined_and_the_stage_moves_on(
    kafka_bootstrap: str, case: str, reason: str
) -> None:
    topics = await create_stage_topics(kafka_bootstrap, partitions=1)
    run = uuid.uuid4().hex[:8]
    before = [sample_record(f"{run}-b{i}", f"b{i}-{run}.example") for i in range(5)]
    after = [sample_record(f"{run}-a{i}", f"a{i}-{run}.example") for i in range(5)]
    hostile = _hostile(run, case)
    await produce(kafka_bootstrap, topics.raw, [*before, hostile, *after])
    config = topics.config(batch_max=4, mapping_deadline_s=1.0)
    stage = normalizer_stage(kafka_bootstrap, Processor(SAMPLE_MAPPERS, _PLAIN), config)
    stop = asyncio.Event()
    task = asyncio.create_task(stage.run(stop))
    try:
        await wait_until_committed(kafka_bootstrap, topics.group_id, topics.raw, timeout_s=90)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)

    published = {
        from_kafka_record(r.value, list(r.headers)).id for r in await read_all(kafka_bootstrap, topics.normalized)
    }
    assert published == {expected_id(f"{run}-{tag}{i}") for tag in "ba" for i in range(5)}
    [quarantined] = await read_all(kafka_bootstrap, topics.quarantine)
    headers = dict(quarantined.headers)
    assert headers["quarantine-reason"].decode() == reason
    assert quarantined.key == hostile[0]
    assert (headers["raw-topic"].decode(), int(headers["raw-offset"])) == (topics.raw, 5)  # lineage to the raw record
    if case == "quarantine_too_large":
        # Cut to a bounded excerpt, and it says how long the original was; the raw record stays on raw.
        assert int(headers["quarantine-truncated"]) == len(hostile[1] or b"")
        assert len(quarantined.value or b"") <= 64 * 1024
        assert (hostile[1] or b"").startswith(quarantined.value or b"")
    else:
        assert quarantined.value == hostile[1]
