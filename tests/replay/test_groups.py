"""Resetting a stage's consumer group on the real broker: the plan shows what would change, applying it moves
the committed offsets, and a group with active members is refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer

from regpipe.contract.sealing import RawSealer
from regpipe.normalize.processor import Processor
from regpipe.normalize.registry import default_mappers
from regpipe.replay.errors import ActiveGroupError
from regpipe.replay.groups import ResetTarget, Whence, apply_reset, committed_offsets, describe_group, plan_reset
from tests.normalize.provider_stream import coldmail_stream
from tests.normalize.stage_factory import normalizer_stage
from tests.normalize.topic_io import StageTopics, create_stage_topics, end_offsets, produce, wait_until_committed

pytestmark = pytest.mark.integration


async def _consumed_group(bootstrap: str, records: int = 60) -> tuple[StageTopics, datetime]:
    """Private topics whose raw records the normalizer group consumed to the end (it is idle now); also a time
    between the first and the second half of the records."""
    topics = await create_stage_topics(bootstrap)
    await produce(bootstrap, topics.raw, coldmail_stream(records // 2, seed=8))
    await asyncio.sleep(0.2)
    middle = datetime.now(UTC)
    await asyncio.sleep(0.2)
    await produce(bootstrap, topics.raw, coldmail_stream(records - records // 2, seed=9))
    stage = normalizer_stage(bootstrap, Processor(default_mappers(), RawSealer({}, None)), topics.config())
    stop = asyncio.Event()
    task = asyncio.create_task(stage.run(stop))
    try:
        await wait_until_committed(bootstrap, topics.group_id, topics.raw)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    return topics, middle


async def test_a_plan_shows_the_lag_and_changes_nothing(kafka_bootstrap: str) -> None:
    topics, _ = await _consumed_group(kafka_bootstrap)
    ends = await end_offsets(kafka_bootstrap, topics.raw)

    plan = await plan_reset(kafka_bootstrap, topics.group_id, topics.raw, ResetTarget(Whence.EARLIEST))

    assert plan.group.members == 0
    assert {row.partition: (row.current, row.target, row.end, row.lag) for row in plan.partitions} == {
        p: (end, 0, end, end) for p, end in ends.items()
    }
    assert await committed_offsets(kafka_bootstrap, topics.group_id, topics.raw) == ends


async def test_reset_to_earliest_offset_time_and_latest(kafka_bootstrap: str) -> None:
    topics, middle = await _consumed_group(kafka_bootstrap)
    ends = await end_offsets(kafka_bootstrap, topics.raw)

    await apply_reset(
        kafka_bootstrap, await plan_reset(kafka_bootstrap, topics.group_id, topics.raw, ResetTarget(Whence.EARLIEST))
    )
    assert await committed_offsets(kafka_bootstrap, topics.group_id, topics.raw) == dict.fromkeys(ends, 0)

    offset_plan = await plan_reset(
        kafka_bootstrap, topics.group_id, topics.raw, ResetTarget(Whence.OFFSET, offset=3), partition=1
    )
    await apply_reset(kafka_bootstrap, offset_plan)
    assert await committed_offsets(kafka_bootstrap, topics.group_id, topics.raw) == {0: 0, 1: min(3, ends[1]), 2: 0}

    time_plan = await plan_reset(kafka_bootstrap, topics.group_id, topics.raw, ResetTarget(Whence.TIME, time=middle))
    await apply_reset(kafka_bootstrap, time_plan)
    after_middle = await committed_offsets(kafka_bootstrap, topics.group_id, topics.raw)
    # Every partition got records from both halves (30 keys each over 3 partitions): strictly inside.
    assert all(0 < after_middle[p] < ends[p] for p in ends), (after_middle, ends)
    assert sum(ends[p] - after_middle[p] for p in ends) == 30

    await apply_reset(
        kafka_bootstrap, await plan_reset(kafka_bootstrap, topics.group_id, topics.raw, ResetTarget(Whence.LATEST))
    )
    assert await committed_offsets(kafka_bootstrap, topics.group_id, topics.raw) == ends


async def test_a_group_with_active_members_is_not_reset(kafka_bootstrap: str) -> None:
    topics, _ = await _consumed_group(kafka_bootstrap)
    ends = await end_offsets(kafka_bootstrap, topics.raw)
    member = AIOKafkaConsumer(
        topics.raw, bootstrap_servers=kafka_bootstrap, group_id=topics.group_id, enable_auto_commit=False
    )
    await member.start()
    try:
        async with asyncio.timeout(30):
            while not member.assignment():
                await member.getmany(timeout_ms=200)
        plan = await plan_reset(kafka_bootstrap, topics.group_id, topics.raw, ResetTarget(Whence.EARLIEST))
        assert (await describe_group(kafka_bootstrap, topics.group_id)).members == 1
        assert plan.group.active

        with pytest.raises(ActiveGroupError):
            await apply_reset(kafka_bootstrap, plan)
    finally:
        await member.stop()

    assert await committed_offsets(kafka_bootstrap, topics.group_id, topics.raw) == ends
