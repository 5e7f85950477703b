"""A stage's send step for unit tests: every record gets an acknowledgement the test resolves (or fails) itself."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import TopicPartition

from regpipe.streaming import Batch, InFlight

__all__ = ["ScriptedSender"]


class ScriptedSender:
    """Hands out one pending acknowledgement per record and writes `sent N` / `acked N` on `timeline`."""

    def __init__(self, timeline: list[str]) -> None:
        self.timeline = timeline
        self.acks: list[list[asyncio.Future[Any]]] = []
        self.reported: list[list[TopicPartition]] = []

    @property
    def sent(self) -> int:
        """How many batches were handed over."""
        return len(self.acks)

    async def send(self, batch: Batch) -> InFlight:
        loop = asyncio.get_running_loop()
        acks: list[asyncio.Future[Any]] = [loop.create_future() for records in batch.values() for _ in records]
        self.acks.append(acks)
        self.timeline.append(f"sent {len(self.acks)}")
        offsets = {tp: records[-1].offset + 1 for tp, records in batch.items()}
        return InFlight(acks=acks, offsets=offsets, on_committed=self.reported.append)

    def ack(self, batch: int, *, records: int | None = None) -> None:
        """Acknowledge the first `records` (default: all) records of batch number `batch` (1-based)."""
        for future in self.acks[batch - 1][:records]:
            if not future.done():
                future.set_result(None)
        if records is None:
            self.timeline.append(f"acked {batch}")

    def fail(self, batch: int, exc: BaseException) -> None:
        """Fail the last record's acknowledgement of batch number `batch`."""
        self.acks[batch - 1][-1].set_exception(exc)
        self.timeline.append(f"failed {batch}")
