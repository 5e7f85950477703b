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


class _Gated(_Recording):
    """A strategy whose `submit` of a non-empty batch holds until the test opens the gate (then it stays open
    until closed again)."""

    def __init__(self, timeline: list[str]) -> None:
        super().__init__(timeline)
        self.gate = asyncio.Event()

    async def submit(self, batch: Batch) -> None:
        await super().submit(batch)
        if batch:
            await self.gate.wait()


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


async def test_the_next_batch_is_polled_while_the_strategy_works_and_handed_over_whole_after_it_returns() -> None:
    consumer = FakeConsumer({P0, P1})
    strategy = _Gated(consumer.timeline)
    stop = asyncio.Event()
    task = asyncio.create_task(_shell(consumer, strategy).run(stop))
    consumer.feed(records(0, 0, 2))
    await wait_for(lambda: len(strategy.batches) == 1)

    # Arriving while batch 1 is worked on: polled at once (the consumer's buffer keeps draining), not handed over.
    consumer.feed(records(0, 2, 1), records(1, 0, 2))
    consumer.feed(records(0, 3, 2))
    await wait_for(lambda: consumer.unpolled == 0)
    assert strategy.batches == [{0: [0, 1]}]

    strategy.gate.set()
    await wait_for(lambda: len(strategy.batches) == 2)
    stop.set()
    await asyncio.wait_for(task, 30)
    # Everything polled meanwhile is the next batch, in reading order per partition.
    assert strategy.batches == [{0: [0, 1]}, {0: [2, 3, 4], 1: [0, 1]}]


async def test_polling_ahead_holds_at_most_batch_max_records_and_the_rest_waits_in_the_consumer() -> None:
    consumer = FakeConsumer({P0})
    strategy = _Gated(consumer.timeline)
    stop = asyncio.Event()
    task = asyncio.create_task(_shell(consumer, strategy).run(stop))  # batch_max 10
    consumer.feed(records(0, 0, 1))
    await wait_for(lambda: len(strategy.batches) == 1)

    consumer.feed(records(0, 1, 15))
    await wait_for(lambda: consumer.carried == 5)  # 10 polled ahead
    polls = consumer.polls
    for _ in range(50):
        await asyncio.sleep(0)
    assert consumer.polls == polls  # full: no poll until the strategy takes what is held

    strategy.gate.set()
    await wait_for(lambda: sum(len(b.get(0, [])) for b in strategy.batches) == 16)
    stop.set()
    await asyncio.wait_for(task, 30)
    assert strategy.batches[1] == {0: list(range(1, 11))}
    assert [offset for batch in strategy.batches for offset in batch[0]] == list(range(16))


async def test_records_polled_ahead_for_a_revoked_partition_are_dropped_even_when_it_is_assigned_again() -> None:
    consumer = FakeConsumer({P0, P1})
    strategy = _Gated(consumer.timeline)
    stop = asyncio.Event()
    task = asyncio.create_task(_shell(consumer, strategy).run(stop))
    consumer.feed(records(0, 0, 1))
    await wait_for(lambda: len(strategy.batches) == 1)
    consumer.feed(records(0, 1, 2), records(1, 0, 2))
    await wait_for(lambda: consumer.unpolled == 0)

    # The consumer reads P0 again from its committed offset after this; what was polled ahead must not be used.
    rebalance = asyncio.create_task(consumer.rebalance(revoked={P0}, assigned={P0}))
    strategy.gate.set()
    await asyncio.wait_for(rebalance, 30)
    consumer.feed(records(0, 1, 2))
    await wait_for(lambda: len(strategy.batches) == 3)
    stop.set()
    await asyncio.wait_for(task, 30)
    assert strategy.batches == [{0: [0]}, {1: [0, 1]}, {0: [1, 2]}]


async def test_a_stop_ends_the_wait_for_records_at_once() -> None:
    consumer = FakeConsumer({P0})
    strategy = _Recording(consumer.timeline)
    stop = asyncio.Event()
    shell = StreamProcessor(consumer, strategy, topics=[TOPIC], batch_max=10, poll_timeout_ms=600_000)
    task = asyncio.create_task(shell.run(stop))
    await wait_for(lambda: consumer.polls > 0)

    stop.set()
    await asyncio.wait_for(task, 30)
    assert consumer.timeline == ["started", "assigned", "join", "stopped", "close"]


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
