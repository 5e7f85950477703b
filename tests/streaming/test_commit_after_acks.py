"""The at-least-once ordering rules of `CommitAfterAcks` under the shell, with an in-memory consumer: a batch is
committed only once every record of it is acknowledged, the next batch is sent before the previous is committed
while commits keep reading order, a revocation settles the batch in flight first, a failed batch is never
committed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaTimeoutError

from regpipe.streaming import AckError, CommitAfterAcks, OffsetCommitter, StreamProcessor
from tests.streaming.conditions import wait_for
from tests.streaming.fake_consumer import TOPIC, FakeConsumer, records
from tests.streaming.scripted_sender import ScriptedSender

P0 = TopicPartition(TOPIC, 0)
P1 = TopicPartition(TOPIC, 1)


@dataclass
class Stage:
    consumer: FakeConsumer
    sender: ScriptedSender
    stop: asyncio.Event
    task: asyncio.Task[None]

    @property
    def timeline(self) -> list[str]:
        return self.consumer.timeline


def _start(*, poll_timeout_ms: int = 5) -> Stage:
    consumer = FakeConsumer({P0, P1})
    sender = ScriptedSender(consumer.timeline)
    strategy = CommitAfterAcks(
        sender.send, OffsetCommitter(consumer, timeout_s=5), ack_timeout_s=30, settle_timeout_s=30
    )
    shell = StreamProcessor(consumer, strategy, topics=[TOPIC], batch_max=100, poll_timeout_ms=poll_timeout_ms)
    stop = asyncio.Event()
    return Stage(consumer, sender, stop, asyncio.create_task(shell.run(stop)))


@pytest.fixture
async def stage() -> AsyncIterator[Stage]:
    running = _start()
    yield running
    if running.task.done():
        return
    running.stop.set()
    running.consumer.feed()  # wakes a poll
    for batch in range(1, running.sender.sent + 1):
        running.sender.ack(batch)
    await asyncio.wait_for(running.task, 30)


async def _let_it_run() -> None:
    # Gives the stage many turns on the loop: had it a commit to make now, it would have made it.
    for _ in range(50):
        await asyncio.sleep(0)


async def test_a_batch_is_committed_only_once_every_record_of_it_is_acknowledged(stage: Stage) -> None:
    stage.consumer.feed(records(0, 0, 3))
    stage.consumer.feed(records(0, 3, 2))
    await wait_for(lambda: stage.sender.sent == 2)
    assert stage.consumer.commits == []

    stage.sender.ack(1, records=2)
    await _let_it_run()
    assert stage.consumer.commits == []

    stage.sender.ack(1)
    await wait_for(lambda: len(stage.consumer.commits) == 1)
    assert stage.consumer.commits == [{P0: 3}]
    assert stage.timeline == ["started", "sent 1", "sent 2", "acked 1", "commit 0@3"]


async def test_the_next_batch_is_sent_before_the_previous_is_committed_and_commits_keep_reading_order(
    stage: Stage,
) -> None:
    stage.consumer.feed(records(0, 0, 2))
    stage.consumer.feed(records(1, 0, 4))
    stage.consumer.feed(records(0, 2, 1))
    await wait_for(lambda: stage.sender.sent == 2)

    stage.sender.ack(2)  # the later batch is acknowledged first: it still waits for the earlier one
    await _let_it_run()
    assert stage.consumer.commits == []

    stage.sender.ack(1)
    await wait_for(lambda: len(stage.consumer.commits) == 2)
    assert stage.timeline == ["started", "sent 1", "sent 2", "acked 2", "acked 1", "commit 0@2", "sent 3", "commit 1@4"]
    assert stage.sender.reported == [[P0], [P1]]


async def test_a_revocation_commits_the_batch_in_flight_before_the_partitions_go() -> None:
    # A long poll: nothing but the revocation settles the batch in flight.
    stage = _start(poll_timeout_ms=60_000)
    stage.consumer.feed(records(0, 0, 2), records(1, 0, 3))
    await wait_for(lambda: stage.sender.sent == 1)

    rebalance = asyncio.create_task(stage.consumer.rebalance(revoked={P0, P1}, assigned={P1}))
    await _let_it_run()
    assert not rebalance.done()  # held until the batch in flight is acknowledged and committed
    assert stage.consumer.commits == []

    stage.sender.ack(1)
    await asyncio.wait_for(rebalance, 30)
    assert stage.timeline == ["started", "sent 1", "acked 1", "commit 0@2 1@3", "revoked 0,1"]

    stage.stop.set()
    stage.consumer.feed()
    await asyncio.wait_for(stage.task, 30)


async def test_a_batch_kafka_did_not_acknowledge_is_not_committed_nor_is_any_after_it(stage: Stage) -> None:
    stage.consumer.feed(records(0, 0, 2))
    stage.consumer.feed(records(1, 0, 2))
    await wait_for(lambda: stage.sender.sent == 2)

    stage.sender.ack(2)
    stage.sender.fail(1, KafkaTimeoutError())

    with pytest.raises(AckError):
        await asyncio.wait_for(stage.task, 30)
    assert stage.consumer.commits == []
    assert stage.consumer.stopped


async def test_a_graceful_stop_commits_the_batch_in_flight(stage: Stage) -> None:
    stage.consumer.feed(records(1, 0, 5))
    await wait_for(lambda: stage.sender.sent == 1)

    stage.stop.set()
    stage.sender.ack(1)
    await asyncio.wait_for(stage.task, 30)

    assert stage.consumer.commits == [{P1: 5}]
    assert stage.timeline[-2:] == ["commit 1@5", "stopped"]
