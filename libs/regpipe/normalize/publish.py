"""Producing output records and waiting until Kafka acknowledged them, with Kafka's errors translated.

Records are handed to the producer one after the other without waiting (so they share produce requests), then
their acknowledgements are awaited together; only after that may the caller commit the input offsets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from regpipe.normalize.errors import StageError

__all__ = ["Outgoing", "publish_all", "send", "wait_for_acks"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One record to produce."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


async def send(producer: AIOKafkaProducer, record: Outgoing) -> asyncio.Future[Any]:
    """Hand `record` to the producer; the returned future resolves once Kafka acknowledged it."""
    try:
        ack: asyncio.Future[Any] = await producer.send(
            record.topic, value=record.value, key=record.key, headers=record.headers
        )
    except KafkaError as exc:
        raise StageError(f"Kafka refused a record for {record.topic}: {type(exc).__name__}: {exc}") from exc
    return ack


async def wait_for_acks(acks: Sequence[asyncio.Future[Any]], *, timeout_s: float) -> None:
    """Wait until every record is acknowledged; `StageError` if one fails or `timeout_s` passes first."""
    try:
        async with asyncio.timeout(timeout_s):
            await asyncio.gather(*acks)
    except (KafkaError, TimeoutError) as exc:
        raise StageError(f"Kafka did not acknowledge a batch: {type(exc).__name__}: {exc}") from exc


async def publish_all(producer: AIOKafkaProducer, records: Iterable[Outgoing], *, timeout_s: float) -> int:
    """Produce `records` and return how many once all are acknowledged; `StageError` if any is not in time."""
    try:
        async with asyncio.timeout(timeout_s):
            acks = [await send(producer, record) for record in records]
    except TimeoutError as exc:
        raise StageError("the producer did not take the batch in time") from exc
    await wait_for_acks(acks, timeout_s=timeout_s)
    return len(acks)
