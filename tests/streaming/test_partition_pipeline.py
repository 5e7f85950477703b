"""The ordering rules of `PartitionPipeline` under the shell, with an in-memory consumer: the next batch is taken
while a partition's step (the deduplicator's transaction) commits, each partition's steps run one after the other in
reading order, a revocation and a stop wait for the step in flight, a failed step stops the stage and nothing queued
behind it runs."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from aiokafka import TopicPartition

from regpipe.streaming import Batch, ConsumedRecord, PartitionPipeline, StreamProcessor
from tests.streaming.conditions import wait_for
from tests.streaming.fake_consumer import TOPIC, FakeConsumer, records

P0 = TopicPartition(TOPIC, 0)
P1 = TopicPartition(TOPIC, 1)


class _Transactions:
    """A strategy shaped like the deduplicator's: each partition's part of a batch is one step that commits its
    offsets; the test ends each step (`finish`) and the steps write `begin`/`commit` on the timeline."""

    def __init__(self, timeline: list[str]) -> None:
        self.timeline = timeline
        self.open: dict[str, asyncio.Future[None]] = {}
        self.pipeline = PartitionPipeline(self._step)

    async def _step(self, tp: TopicPartition, part: Sequence[ConsumedRecord]) -> None:
        name = f"{tp.partition}@{part[0].offset}-{part[-1].offset}"
        self.open[name] = asyncio.get_running_loop().create_future()
        self.timeline.append(f"begin {name}")
        await self.open[name]
        self.timeline.append(f"commit {tp.partition}@{part[-1].offset + 1}")

    def finish(self, name: str, failure: Exception | None = None) -> None:
        if failure is None:
            self.open[name].set_result(None)
        else:
            self.open[name].set_exception(failure)

    async def submit(self, batch: Batch) -> None:
        await self.pipeline.submit(batch)

    async def on_assigned(self, partitions: set[TopicPartition]) -> None:
        return None

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        await self.pipeline.settle(partitions)

    async def join(self) -> None:
        await self.pipeline.settle_all()

    async def close(self) -> None:
        await self.pipeline.cancel()


@dataclass
class _Stage:
    consumer: FakeConsumer
    strategy: _Transactions
    stop: asyncio.Event
    task: asyncio.Task[None]


def _start() -> _Stage:
    consumer = FakeConsumer({P0, P1})
    strategy = _Transactions(consumer.timeline)
    shell = StreamProcessor(consumer, strategy, topics=[TOPIC], batch_max=100, poll_timeout_ms=5)
    stop = asyncio.Event()
    return _Stage(consumer, strategy, stop, asyncio.create_task(shell.run(stop)))


async def _let_it_run() -> None:
    # Many turns on the loop: a step that could begin now would have begun.
    for _ in range(50):
        await asyncio.sleep(0)


async def _stop(stage: _Stage) -> None:
    stage.stop.set()
    await asyncio.wait_for(stage.task, 30)


async def test_batches_go_on_while_a_partition_commits_and_each_partition_commits_in_reading_order() -> None:
    stage = _start()
    stage.consumer.feed(records(0, 0, 2))
    await wait_for(lambda: "0@0-1" in stage.strategy.open)

    # The next batch is taken while partition 0 still commits, and partition 1 does not wait for it.
    stage.consumer.feed(records(1, 0, 1))
    await wait_for(lambda: "1@0-0" in stage.strategy.open)
    # Partition 0's next records wait for its step in flight.
    stage.consumer.feed(records(0, 2, 2))
    await wait_for(lambda: stage.consumer.unpolled == 0)
    await _let_it_run()
    assert "0@2-3" not in stage.strategy.open

    stage.strategy.finish("1@0-0")
    stage.strategy.finish("0@0-1")
    await wait_for(lambda: "0@2-3" in stage.strategy.open)
    stage.strategy.finish("0@2-3")
    await _stop(stage)
    assert stage.consumer.timeline == [
        "started",
        "begin 0@0-1",
        "begin 1@0-0",
        "commit 1@1",
        "commit 0@2",
        "begin 0@2-3",
        "commit 0@4",
        "stopped",
    ]


async def test_a_revocation_waits_for_the_step_in_flight_of_the_revoked_partition() -> None:
    stage = _start()
    stage.consumer.feed(records(0, 0, 2))
    await wait_for(lambda: "0@0-1" in stage.strategy.open)

    rebalance = asyncio.create_task(stage.consumer.rebalance(revoked={P0}, assigned=set()))
    await _let_it_run()
    assert not rebalance.done()  # the partition stays ours until its transaction committed

    stage.strategy.finish("0@0-1")
    await asyncio.wait_for(rebalance, 30)
    await _stop(stage)
    assert stage.consumer.timeline == ["started", "begin 0@0-1", "commit 0@2", "revoked 0", "stopped"]


async def test_a_graceful_stop_waits_for_the_steps_in_flight() -> None:
    stage = _start()
    stage.consumer.feed(records(0, 0, 1), records(1, 0, 1))
    await wait_for(lambda: len(stage.strategy.open) == 2)

    stage.stop.set()
    await _let_it_run()
    assert not stage.task.done()
    stage.strategy.finish("0@0-0")
    stage.strategy.finish("1@0-0")
    await asyncio.wait_for(stage.task, 30)
    assert stage.consumer.timeline[-3:] == ["commit 0@1", "commit 1@1", "stopped"]


async def test_a_failed_step_stops_the_stage_and_the_step_queued_behind_it_never_runs() -> None:
    stage = _start()
    stage.consumer.feed(records(0, 0, 2))
    await wait_for(lambda: "0@0-1" in stage.strategy.open)
    stage.consumer.feed(records(0, 2, 1), records(1, 0, 1))
    await wait_for(lambda: "1@0-0" in stage.strategy.open)

    stage.strategy.finish("0@0-1", RuntimeError("transaction aborted"))
    with pytest.raises(RuntimeError, match="transaction aborted"):
        await asyncio.wait_for(stage.task, 30)
    assert "begin 0@2-2" not in stage.consumer.timeline
    assert not any(line.startswith("commit") for line in stage.consumer.timeline)
    assert stage.consumer.stopped
