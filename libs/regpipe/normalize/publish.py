"""Publishing a batch of output records and waiting until Kafka acknowledged every one of them.

Records are handed to the producer one after the other without waiting (so they share produce requests), then
all acknowledgements are awaited together; only after that may the caller commit the input offsets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from regpipe.normalize.errors import StageError

__all__ = ["Outgoing", "publish_all"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One record to produce."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


async def publish_all(producer: AIOKafkaProducer, records: Iterable[Outgoing], *, timeout_s: float) -> int:
    """Produce `records` and return how many once all are acknowledged; `StageError` if any is not in time."""
    acks: list[asyncio.Future[object]] = []
    try:
        async with asyncio.timeout(timeout_s):
            for record in records:
                acks.append(
                    await producer.send(record.topic, value=record.value, key=record.key, headers=record.headers)
                )
            await asyncio.gather(*acks)
    except (KafkaError, TimeoutError) as exc:
        raise StageError(f"Kafka did not acknowledge the batch: {type(exc).__name__}: {exc}") from exc
    return len(acks)
