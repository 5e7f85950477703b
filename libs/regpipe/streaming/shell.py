"""The stage shell: one consumer in a group driving one stage's `Strategy` (arroyo's `StreamProcessor`, asyncio).

The shell owns the loop every consuming stage needs and nothing stage-specific: start the consumer it was given,
subscribe with a rebalance listener, poll batches, hand them to the strategy, report readiness, stop. The
consumer is polled ahead while the strategy works on a batch (`Prefetcher`), so the next batch is whatever arrived
meanwhile, not only what the consumer's buffer held when the batch ended. A rebalance waits until the strategy is
between two calls, so a strategy never sees a revocation in the middle of a batch; records polled ahead for a
revoked partition are dropped, never handed over. aiokafka swallows errors raised in a rebalance listener, so the
shell keeps them and the loop raises them: a stage never carries on after a failed settle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from aiokafka import ConsumerRebalanceListener, TopicPartition

from regpipe.observability.logging import get_logger
from regpipe.streaming.consumer import Consumer
from regpipe.streaming.prefetch import Prefetcher
from regpipe.streaming.strategy import Batch, Strategy

__all__ = ["StreamProcessor"]

_log = get_logger(__name__)

_RebalanceStep = Callable[[set[TopicPartition]], Awaitable[None]]


class StreamProcessor:
    """Runs `strategy` over the records of `topics` that `consumer` is assigned."""

    def __init__(
        self,
        consumer: Consumer,
        strategy: Strategy,
        *,
        topics: Sequence[str],
        batch_max: int,
        poll_timeout_ms: int,
    ) -> None:
        self._consumer = consumer
        self._strategy = strategy
        self._topics = list(topics)
        self._poll_timeout_s = poll_timeout_ms / 1000
        self._prefetch = Prefetcher(consumer, batch_max=batch_max, poll_timeout_ms=poll_timeout_ms)
        # Held while the strategy works on a batch; a rebalance takes it, so the two never interleave.
        self._busy = asyncio.Lock()
        self._failure: Exception | None = None
        self._running = False

    def ready(self) -> str | None:
        """None once the consumer is started and the loop runs, else why not."""
        return None if self._running else "kafka consumer not started"

    async def run(self, stop: asyncio.Event) -> None:
        """Poll and submit until `stop` is set, then let the strategy finish what is in flight.

        Whatever the strategy raises (also from a rebalance) stops the loop before anything else is committed.
        """
        await self._consumer.start()
        polling: asyncio.Task[None] | None = None
        stopping = asyncio.create_task(stop.wait(), name="stage-stop")
        stopping.add_done_callback(lambda _: self._prefetch.wake())
        try:
            self._consumer.subscribe(self._topics, listener=_Listener(self))
            polling = asyncio.create_task(self._prefetch.run(), name="stage-prefetch")
            self._running = True
            while not stop.is_set():
                self._raise_failure()
                await self._prefetch.wait(self._poll_timeout_s)
                async with self._busy:
                    self._raise_failure()
                    # Taken under the lock, so a revocation's `forget` is either before it or after the batch.
                    await self._strategy.submit(self._owned(self._prefetch.take()))
            async with self._busy:
                self._raise_failure()
                await self._strategy.join()
        finally:
            self._running = False
            self._prefetch.close()
            for task in (stopping, polling):
                if task is not None:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
            await self._consumer.stop()
            await self._strategy.close()

    def _owned(self, batch: Batch) -> Batch:
        # Records of a partition revoked since they were fetched: the new owner reads them from the committed offset.
        assigned = self._consumer.assignment()
        return {tp: records for tp, records in batch.items() if records and tp in assigned}

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    async def on_assigned(self, partitions: set[TopicPartition]) -> None:
        """Tell the strategy, between two batches."""
        _log.info("partitions assigned", partitions=_names(partitions))
        await self._rebalance(self._strategy.on_assigned, partitions)

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        """Let the strategy settle what is in flight while the partitions are still ours; drop what was polled
        ahead for them (the consumer reads them again from the committed offsets if they come back)."""
        await self._rebalance(self._strategy.on_revoked, partitions, forget=True)
        _log.info("partitions revoked", partitions=_names(partitions))

    async def _rebalance(self, step: _RebalanceStep, partitions: set[TopicPartition], *, forget: bool = False) -> None:
        try:
            async with self._busy:
                if forget:
                    self._prefetch.forget(partitions)
                await step(partitions)
        except Exception as exc:  # noqa: BLE001  # not swallowed: the loop raises it (aiokafka would drop it)
            _log.error("rebalance step failed; the stage stops", error=f"{type(exc).__name__}: {exc}")
            self._failure = exc


def _names(partitions: set[TopicPartition]) -> list[str]:
    return sorted(f"{tp.topic}:{tp.partition}" for tp in partitions)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """aiokafka calls these from its group coordinator; aiokafka accepts no listener of another class."""

    def __init__(self, shell: StreamProcessor) -> None:
        self._shell = shell

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._shell.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._shell.on_assigned(assigned)
