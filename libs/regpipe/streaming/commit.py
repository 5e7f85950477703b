"""Committing input offsets through the group coordinator, only for partitions still assigned.

After a rebalance a batch may hold records of partitions no longer ours: their new owner reads them again from
the last committed offset, so they are left out rather than committed over the new owner's progress.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from regpipe.observability.logging import get_logger
from regpipe.streaming.consumer import Consumer
from regpipe.streaming.errors import CommitError

__all__ = ["OffsetCommitter"]

_log = get_logger(__name__)


class OffsetCommitter:
    """Commits offsets of the partitions `consumer` still owns."""

    def __init__(self, consumer: Consumer, *, timeout_s: float) -> None:
        self._consumer = consumer
        self._timeout_s = timeout_s

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> list[TopicPartition]:
        """Commit what is still ours and return those partitions; `CommitError` if Kafka fails to take it.

        A commit the coordinator refuses because the group rebalanced meanwhile commits nothing and is not an
        error: the new owners read the batch again.
        """
        assigned = self._consumer.assignment()
        mine = {tp: offset for tp, offset in offsets.items() if tp in assigned}
        if not mine:
            return []
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._consumer.commit(mine)
        except CommitFailedError:
            _log.warning("commit refused after a rebalance; the new owner reads the batch again", partitions=len(mine))
            return []
        except (KafkaError, TimeoutError) as exc:
            raise CommitError(f"committing offsets failed: {type(exc).__name__}: {exc}") from exc
        return list(mine)
