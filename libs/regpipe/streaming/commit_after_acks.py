"""The at-least-once strategy: a batch's offsets are committed only after every record produced for it was
acknowledged, and the next batch is processed while Kafka still acknowledges the previous one.

Batch N+1 is handed to the producer before batch N is settled (its acknowledgements awaited, then its offsets
committed), so CPU work on N+1 overlaps the broker's round trips for N; batches are still committed one after the
other, in the order they were read. A revocation settles the batch in flight while its partitions are still ours,
so their next owner starts after it. A batch whose acknowledgements fail is never committed: the error stops the
stage and the batch is read again after a restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from regpipe.observability.logging import get_logger
from regpipe.streaming.commit import OffsetCommitter
from regpipe.streaming.errors import AckError
from regpipe.streaming.strategy import Batch

__all__ = ["CommitAfterAcks", "InFlight", "SendBatch"]

_log = get_logger(__name__)


def _nothing(_: list[TopicPartition]) -> None:
    return None


@dataclass(frozen=True, slots=True)
class InFlight:
    """A batch handed to the producer: what to wait for, then what to commit."""

    #: One acknowledgement per produced record.
    acks: Sequence[asyncio.Future[Any]]
    #: The next offset to read, per partition of the batch.
    offsets: Mapping[TopicPartition, int]
    #: Told which partitions were committed (e.g. to report metrics that match what was handled).
    on_committed: Callable[[list[TopicPartition]], None] = field(default=_nothing)


#: A stage's own step: process a (non-empty) batch and hand its output to the producer, without awaiting acks.
SendBatch = Callable[[Batch], Awaitable[InFlight]]


class CommitAfterAcks:
    """`Strategy` that sends a batch, then settles the previous one (acks, then commit), in reading order."""

    def __init__(
        self, send: SendBatch, committer: OffsetCommitter, *, ack_timeout_s: float, settle_timeout_s: float
    ) -> None:
        self._send = send
        self._committer = committer
        self._ack_timeout_s = ack_timeout_s
        self._settle_timeout_s = settle_timeout_s
        self._pending: InFlight | None = None

    async def submit(self, batch: Batch) -> None:
        """Send `batch`, then settle the batch before it (acknowledged meanwhile, or awaited now)."""
        flight = await self._send(batch) if batch else None
        await self._settle()
        self._pending = flight

    async def on_assigned(self, partitions: set[TopicPartition]) -> None:
        """Nothing to prepare: the next poll reads the new partitions from their committed offsets."""

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        """Commit the batch in flight while its partitions are still ours."""
        try:
            async with asyncio.timeout(self._settle_timeout_s):
                await self._settle()
        except TimeoutError:
            _log.warning("batch still in flight at revocation; its records may be processed twice")

    async def join(self) -> None:
        """Settle the batch in flight before the stage stops."""
        await self._settle()

    async def close(self) -> None:
        """Nothing held: the producer belongs to the stage."""

    async def _settle(self) -> None:
        flight, self._pending = self._pending, None
        if flight is None:
            return
        try:
            async with asyncio.timeout(self._ack_timeout_s):
                await asyncio.gather(*flight.acks)
        except (KafkaError, TimeoutError) as exc:
            raise AckError(f"Kafka did not acknowledge a batch: {type(exc).__name__}: {exc}") from exc
        flight.on_committed(await self._committer.commit(flight.offsets))
