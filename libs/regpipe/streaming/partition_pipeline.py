"""Per-partition pipelining for a strategy whose unit of work is one partition's part of a batch, committing its
own offsets (the deduplicator's Kafka transaction with its offsets).

A transaction takes several broker round trips after the work is done (AddPartitionsToTxn, produce,
AddOffsetsToTxn, TxnOffsetCommit, EndTxn). Awaiting all of them in `submit` kept the shell from handing over the
next batch until the slowest partition of the batch had committed. Here `submit` starts each partition's step in a
task and returns once every partition of the batch has at most this batch's step in flight, so the shell polls and
the next batch is prepared while transactions commit, and one slow partition no longer holds the others.

Order is kept per partition: a partition's step starts only after its previous step finished, so its offsets are
committed in reading order and a step sees what the previous one published. A failed step fails every later step of
its partition without running it, and the next call raises its error, so the stage stops before anything else of
that partition is committed. A revocation waits for the revoked partitions' steps while they are still ours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence

from aiokafka import TopicPartition

from regpipe.streaming.record import ConsumedRecord
from regpipe.streaming.strategy import Batch

__all__ = ["PartitionPipeline", "PartitionStep"]

#: One partition's part of a batch, processed and committed (its offsets included) by the stage.
PartitionStep = Callable[[TopicPartition, Sequence[ConsumedRecord]], Awaitable[None]]


class PartitionPipeline:
    """At most one step in flight per partition plus the one `submit` queued behind it, run in reading order."""

    def __init__(self, step: PartitionStep) -> None:
        self._step = step
        self._last: dict[TopicPartition, asyncio.Task[None]] = {}

    async def submit(self, batch: Batch) -> None:
        """Queue each partition's records behind its step in flight; return once that step finished.

        Raises the error of any step that failed meanwhile (also on an empty batch).
        """
        self._raise_failed()
        ahead: list[asyncio.Task[None]] = []
        for tp, records in batch.items():
            before = self._last.get(tp)
            if before is not None and not before.done():
                ahead.append(before)
            self._last[tp] = asyncio.create_task(self._after(before, tp, records), name=f"partition-step-{tp}")
        await self._wait(ahead)

    async def settle(self, partitions: Iterable[TopicPartition]) -> None:
        """Wait for the steps of `partitions` (revoked, or the stage stopping) and forget them; raise a failure."""
        tasks = [task for tp in partitions if (task := self._last.pop(tp, None)) is not None]
        await self._wait(tasks)

    async def settle_all(self) -> None:
        """Wait for every step in flight; raise a failure."""
        await self.settle(list(self._last))

    async def cancel(self) -> None:
        """Cancel the steps in flight (the stage failed). A step must be all or nothing (a transaction holding its
        offsets): one whose commit was already requested may still complete, as a whole."""
        tasks, self._last = list(self._last.values()), {}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _after(
        self, before: asyncio.Task[None] | None, tp: TopicPartition, records: Sequence[ConsumedRecord]
    ) -> None:
        if before is not None:
            await before  # a failure of the step before fails this one too: it never runs
        await self._step(tp, records)

    async def _wait(self, tasks: Sequence[asyncio.Task[None]]) -> None:
        if tasks:
            await asyncio.wait(tasks)
        _raise_first(tasks)

    def _raise_failed(self) -> None:
        _raise_first([task for task in self._last.values() if task.done()])


def _raise_first(done: Iterable[asyncio.Task[None]]) -> None:
    for task in done:
        failure = None if task.cancelled() else task.exception()
        if failure is not None:
            raise failure
