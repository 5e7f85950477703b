"""What a stage plugs into the shell: how it processes a batch and what it does when partitions come and go.

arroyo's `ProcessingStrategy` in asyncio form. The shell calls these one at a time (never two at once), so a
strategy needs no locking of its own; an exception from any of them stops the stage before anything else is
committed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from aiokafka import TopicPartition

from regpipe.streaming.record import ConsumedRecord

__all__ = ["Batch", "Strategy"]

#: The records of one poll, per partition, in offset order; every partition in it is assigned to this replica.
Batch = Mapping[TopicPartition, Sequence[ConsumedRecord]]


class Strategy(Protocol):
    """A stage's processing, driven by the shell."""

    async def submit(self, batch: Batch) -> None:
        """Process `batch` (possibly empty: a poll that found nothing is a chance to finish earlier work)."""

    async def on_assigned(self, partitions: set[TopicPartition]) -> None:
        """Partitions became ours (the fetcher may hand out their first records before this is called)."""

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        """Partitions are being taken away: settle what is in flight for them while they are still ours."""

    async def join(self) -> None:
        """The stage is stopping gracefully: finish and commit what is in flight."""

    async def close(self) -> None:
        """Release what the strategy holds (after the consumer stopped; also after a failure)."""
