"""Producing output records and waiting until Kafka acknowledged them, with Kafka's errors translated.

Records are handed to the producer one after the other without waiting (so they share produce requests), then
their acknowledgements are awaited together; only after that may the caller commit the input offsets.
"""

from __future__ import annotations

import asyncio
from asyncio import Future
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from regpipe.normalize.errors import StageError

__all__ = ["Outgoing", "publish_all", "send_all", "wait_for_acks"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One record to produce."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


async def send_all(producer: AIOKafkaProducer, records: Iterable[Outgoing], *, timeout_s: float) -> list[Future[Any]]:
    """Hand `records` to the producer and return their acknowledgement futures, without waiting for them.

    `StageError` if the producer refuses a record or cannot take them within `timeout_s` (e.g. no metadata for
    the topic).
    """
    acks: list[Future[Any]] = []
    try:
        async with asyncio.timeout(timeout_s):
            for record in records:
                acks.append(
                    await producer.send(record.topic, value=record.value, key=record.key, headers=record.headers)
                )
    except (KafkaError, TimeoutError) as exc:
        raise StageError(f"the producer did not take a batch: {type(exc).__name__}: {exc}") from exc
    return acks


async def wait_for_acks(acks: Sequence[Future[Any]], *, timeout_s: float) -> None:
    """Wait until every record is acknowledged; `StageError` if one fails or `timeout_s` passes first."""
    try:
        async with asyncio.timeout(timeout_s):
            await asyncio.gather(*acks)
    except (KafkaError, TimeoutError) as exc:
        raise StageError(f"Kafka did not acknowledge a batch: {type(exc).__name__}: {exc}") from exc


async def publish_all(producer: AIOKafkaProducer, records: Iterable[Outgoing], *, timeout_s: float) -> int:
    """Produce `records` and return how many once all are acknowledged; `StageError` if any is not in time."""
    acks = await send_all(producer, records, timeout_s=timeout_s)
    await wait_for_acks(acks, timeout_s=timeout_s)
    return len(acks)
