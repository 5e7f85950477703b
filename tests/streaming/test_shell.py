"""The shell with an in-memory consumer: what the strategy is handed, when, and what happens when it fails."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import TopicPartition

from regpipe.streaming import Batch, Consumer, ConsumerSpec, StreamProcessor, create_consumer
from tests.streaming.conditions import wait_for
from tests.streaming.fake_consumer import TOPIC, FakeConsumer, records

P0 = TopicPartition(TOPIC, 0)
P1 = TopicPartition(TOPIC, 1)


class _Recording:
    """A strategy that writes every call on the consumer's timeline; `fail_on` makes one call raise."""

    def __init__(self, timeline: list[str], *, fail_on: str | None = None) -> None:
        self.timeline = timeline
        self.fail_on = fail_on
        self.batches: list[dict[int, list[int]]] = []

    def _call(self, name: str) -> None:
        self.timeline.append(name)
        if name == self.fail_on:
            raise RuntimeError(f"{name} failed")

    async def submit(self, batch: Batch) -> None:
        if batch:
            self.batches.append({tp.partition: [r.offset for r in rs] for tp, rs in batch.items()})
            self._call("submit")

    async def on_assigned(self, partitions: set[TopicPartition]) -> None:
        self._call("assigned")

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        self._call("revoked")

    async def join(self) -> None:
        self._call("join")

    async def close(self) -> None:
        self._call("close")


def _shell(consumer: FakeConsumer, strategy: _Recording) -> StreamProcessor:
    return StreamProcessor(consumer, strategy, topics=[TOPIC], batch_max=10, poll_timeout_ms=5)


async def test_runs_a_strategy_from_assignment_to_close_and_reports_readiness_meanwhile() -> None:
    consumer = FakeConsumer({P0, P1})
    strategy = _Recording(consumer.timeline)
    shell = _shell(consumer, strategy)
    stop = asyncio.Event()
    assert shell.ready() is not None

    task = asyncio.create_task(shell.run(stop))
    consumer.feed(records(0, 0, 2), records(1, 5, 1))
    await wait_for(lambda: bool(strategy.batches))
    assert shell.ready() is None
    stop.set()
    await asyncio.wait_for(task, 30)

    assert strategy.batches == [{0: [0, 1], 1: [5]}]
    assert consumer.timeline == ["started", "assigned", "submit", "join", "stopped", "close"]
    assert shell.ready() is not None


async def test_records_of_a_partition_revoked_after_the_fetch_are_not_handed_to_the_strategy() -> None:
    consumer = FakeConsumer({P0, P1})
    strategy = _Recording(consumer.timeline)
    stop = asyncio.Event()
    task = asyncio.create_task(_shell(consumer, strategy).run(stop))
    await wait_for(lambda: consumer.polls > 0 and consumer.assignment() == {P0, P1})

    await consumer.rebalance(revoked={P0}, assigned=set())
    consumer.feed(records(0, 7, 2), records(1, 3, 2))  # fetched before the revocation took effect
    await wait_for(lambda: bool(strategy.batches))
    stop.set()
    await asyncio.wait_for(task, 30)

    assert strategy.batches == [{1: [3, 4]}]


@pytest.mark.parametrize("step", ["revoked", "assigned"])
async def test_a_failing_rebalance_step_stops_the_stage_with_its_error_instead_of_being_dropped(step: str) -> None:
    consumer = FakeConsumer({P0, P1})
    strategy = _Recording(consumer.timeline, fail_on=step)
    task = asyncio.create_task(_shell(consumer, strategy).run(asyncio.Event()))
    await wait_for(lambda: consumer.polls > 0)

    await consumer.rebalance(revoked={P0}, assigned={P0})
    consumer.feed(records(0, 0, 1))

    with pytest.raises(RuntimeError, match=f"{step} failed"):
        await asyncio.wait_for(task, 30)
    assert strategy.batches == []  # nothing submitted after the failure
    assert consumer.timeline[-2:] == ["stopped", "close"]


async def test_a_failing_batch_stops_the_stage_and_still_stops_the_consumer_and_closes_the_strategy() -> None:
    consumer = FakeConsumer({P0})
    strategy = _Recording(consumer.timeline, fail_on="submit")
    task = asyncio.create_task(_shell(consumer, strategy).run(asyncio.Event()))
    consumer.feed(records(0, 0, 1))

    with pytest.raises(RuntimeError, match="submit failed"):
        await asyncio.wait_for(task, 30)
    assert consumer.timeline == ["started", "assigned", "submit", "stopped", "close"]


async def test_aiokafkas_consumer_is_a_consumer_the_shell_can_drive() -> None:
    consumer = create_consumer("127.0.0.1:9", ConsumerSpec("g", "c", batch_max=10, session_timeout_ms=6000))
    assert isinstance(consumer, Consumer)
