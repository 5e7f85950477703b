"""Polling ahead: the shell's consumer is polled in a task of its own while the strategy works on a batch.

aiokafka fetches in the background, but it sends no further fetch to a broker while a fetched response is still
unconsumed (for up to 100 ms, its fixed `prefetch_backoff`). A stage that polls only between two batches therefore
takes, after each batch, just the small response that arrived first, and what the broker had meanwhile waits for
one more batch. Draining the consumer continuously keeps its fetches going; the records wait here instead, at
most `batch_max` of them, until the shell hands them to the strategy as its next batch (`docs/stages.md`).

Nothing is committed for records held here: a stage that stops, or loses their partition, drops them and they are
read again from the committed offset.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import TopicPartition

from regpipe.streaming.consumer import Consumer
from regpipe.streaming.record import ConsumedRecord

__all__ = ["Prefetcher"]


class Prefetcher:
    """Holds what `consumer` returned, in reading order per partition, until `take`; at most `batch_max` records.

    Once `batch_max` records are held it stops polling until they are taken, so a stalled strategy also stops the
    polls and the consumer's `max_poll_interval_ms` still notices it.
    """

    def __init__(self, consumer: Consumer, *, batch_max: int, poll_timeout_ms: int) -> None:
        self._consumer = consumer
        self._batch_max = batch_max
        self._poll_timeout_ms = poll_timeout_ms
        self._held: dict[TopicPartition, list[ConsumedRecord]] = {}
        self._count = 0
        self._failure: Exception | None = None
        self._closed = False
        self._arrived = asyncio.Event()
        self._room = asyncio.Event()

    @property
    def held(self) -> int:
        """How many records wait to be taken."""
        return self._count

    async def run(self) -> None:
        """Poll until `close`; a failed poll is kept and raised by the next `take`, and polling ends."""
        try:
            while not self._closed:
                room = self._batch_max - self._count
                if room <= 0:
                    self._room.clear()
                    await self._room.wait()
                    continue
                polled = await self._consumer.getmany(timeout_ms=self._poll_timeout_ms, max_records=room)
                for tp, records in polled.items():
                    if records:
                        self._held.setdefault(tp, []).extend(records)
                        self._count += len(records)
                if self._count:
                    self._arrived.set()
        except Exception as exc:  # noqa: BLE001  # not swallowed: `take` raises it in the shell's loop
            self._failure = exc
            self._arrived.set()

    async def wait(self, timeout_s: float) -> None:
        """Return once records are held or polling failed, or after `timeout_s`."""
        if self._count or self._failure is not None:
            return
        self._arrived.clear()
        try:
            async with asyncio.timeout(timeout_s):
                await self._arrived.wait()
        except TimeoutError:
            return

    def close(self) -> None:
        """End `run` after the poll in progress (cancelling it too is faster; this also ends it when a cancellation
        is lost, as `asyncio.wait_for` can lose one that races with its result on Python 3.11)."""
        self._closed = True
        self._room.set()

    def wake(self) -> None:
        """End a `wait` now (the stage is stopping)."""
        self._arrived.set()

    def take(self) -> dict[TopicPartition, list[ConsumedRecord]]:
        """Everything held (possibly nothing), as one batch; raises what made polling fail."""
        if self._failure is not None:
            raise self._failure
        held, self._held, self._count = self._held, {}, 0
        self._room.set()
        return held

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        """Drop what is held for `partitions` (revoked: the consumer reads them again from the committed offset)."""
        for tp in partitions:
            self._count -= len(self._held.pop(tp, ()))
        self._room.set()
