"""Test support: reads `registrar.raw.v1` from the offsets it recorded when created, keeping one account's records.

The raw topic is shared by the whole test session, so every test reads only from where the topic ended before it
produced anything, and only records whose `account` header names its own mailbox.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import TracebackType

from aiokafka import AIOKafkaConsumer, TopicPartition

from regpipe.contract.raw import RawHeaders
from regpipe.kafka.topics import TOPICS, Topic


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One raw record of the test's account."""

    key: str
    value: bytes
    headers: RawHeaders
    partition: int
    offset: int


class RawTopic:
    """`async with RawTopic(bootstrap, account) as raw:` ... `await raw.wait_for(n)`."""

    def __init__(self, bootstrap: str, account: str) -> None:
        self._account = account
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
        spec = TOPICS[Topic.RAW]
        self._partitions = [TopicPartition(spec.name.value, p) for p in range(spec.partitions)]
        self.records: list[RawRecord] = []

    async def __aenter__(self) -> RawTopic:
        await self._consumer.start()
        self._consumer.assign(self._partitions)
        ends = await self._consumer.end_offsets(self._partitions)
        for partition, offset in ends.items():
            self._consumer.seek(partition, offset)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._consumer.stop()

    async def poll(self, timeout_ms: int = 200) -> list[RawRecord]:
        """Read what arrived since the last call; return the new records of the account."""
        batches = await self._consumer.getmany(*self._partitions, timeout_ms=timeout_ms)
        fresh: list[RawRecord] = []
        for records in batches.values():
            for record in records:
                headers = RawHeaders.from_kafka(list(record.headers))
                if headers.account != self._account:
                    continue
                fresh.append(
                    RawRecord(
                        key=(record.key or b"").decode(),
                        value=record.value or b"",
                        headers=headers,
                        partition=record.partition,
                        offset=record.offset,
                    )
                )
        self.records.extend(fresh)
        return fresh

    async def wait_for(self, count: int, timeout_s: float = 30.0) -> list[RawRecord]:
        """Read until at least `count` records of the account arrived in all; return them all."""
        async with asyncio.timeout(timeout_s):
            while len(self.records) < count:
                await self.poll()
        return list(self.records)

    async def drain(self) -> list[RawRecord]:
        """Read up to the topic's current end (everything acknowledged so far); return all records seen."""
        ends = await self._consumer.end_offsets(self._partitions)
        async with asyncio.timeout(30):
            while await self._behind(ends):
                await self.poll()
        return list(self.records)

    async def _behind(self, ends: dict[TopicPartition, int]) -> bool:
        for partition, end in ends.items():
            if await self._consumer.position(partition) < end:
                return True
        return False
