"""The rebalance listener does not wait for a partition's state to be rebuilt: `on_assigned` returns at once, the
partition's first batch waits for its own rebuild, and a partition revoked while rebuilding is cancelled."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import TopicPartition

from regpipe.dedup import DedupConfig
from regpipe.dedup.partition_worker import BatchOutcome, PartitionWorker
from regpipe.dedup.stage import _TransactionPerPartition
from regpipe.dedup.state import PartitionState
from regpipe.streaming.record import RawRecord

_TP = TopicPartition("normalized", 0)


class _Worker:
    def __init__(self) -> None:
        self.state = PartitionState()
        self.processed: list[int] = []
        self.closed = False

    async def process(self, records: Any) -> BatchOutcome:
        self.processed += [record.offset for record in records]
        return BatchOutcome()

    async def close(self) -> None:
        self.closed = True


async def test_assignment_returns_before_the_rebuild_and_the_first_batch_waits_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rebuilt = asyncio.Event()
    worker = _Worker()

    async def slow_open(*_: Any, **__: Any) -> _Worker:
        await rebuilt.wait()
        return worker

    monkeypatch.setattr(PartitionWorker, "open", slow_open)
    strategy = _TransactionPerPartition("127.0.0.1:9", DedupConfig())
    await asyncio.wait_for(strategy.on_assigned({_TP}), timeout=5)  # returns although the rebuild is pending

    submitted = asyncio.create_task(strategy.submit({_TP: [RawRecord("normalized", 0, 0, None, b"", [])]}))
    await asyncio.sleep(0)
    assert not submitted.done()
    rebuilt.set()
    await asyncio.wait_for(submitted, timeout=5)
    assert worker.processed == [0]
    await strategy.close()
    assert worker.closed


async def test_a_partition_revoked_while_rebuilding_is_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def never_done(*_: Any, **__: Any) -> _Worker:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("unreachable")

    monkeypatch.setattr(PartitionWorker, "open", never_done)
    strategy = _TransactionPerPartition("127.0.0.1:9", DedupConfig())
    await strategy.on_assigned({_TP})
    await asyncio.wait_for(started.wait(), timeout=5)
    await asyncio.wait_for(strategy.on_revoked({_TP}), timeout=5)
    assert cancelled.is_set()
