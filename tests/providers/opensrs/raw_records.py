"""Test support: the OpenSRS poll records of one reseller on `registrar.raw.v1`, with their broker timestamps.

Reads from where the shared raw topic ended when opened, and keeps only records whose `account` header is the
test's own reseller, so tests running in one session never see each other's records.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import TracebackType

from aiokafka import AIOKafkaConsumer, TopicPartition

from regpipe.contract.raw import RawHeaders
from regpipe.kafka.topics import TOPICS, Topic
from regpipe.providers.opensrs.protocol import decode_reply, reply_event_items


@dataclass(frozen=True, slots=True)
class PollRecord:
    """One raw record holding a poll reply, and the event ids in it."""

    key: str
    body: bytes
    headers: RawHeaders
    partition: int
    offset: int
    timestamp_s: float
    event_ids: tuple[str, ...]


class RawPollRecords:
    """`async with RawPollRecords(bootstrap, username) as raw:` ... `await raw.wait_for_events(ids)`."""

    def __init__(self, bootstrap: str, username: str) -> None:
        self._username = username
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
        spec = TOPICS[Topic.RAW]
        self._partitions = [TopicPartition(spec.name.value, p) for p in range(spec.partitions)]
        self.records: list[PollRecord] = []

    async def __aenter__(self) -> RawPollRecords:
        await self._consumer.start()
        self._consumer.assign(self._partitions)
        for partition, offset in (await self._consumer.end_offsets(self._partitions)).items():
            self._consumer.seek(partition, offset)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._consumer.stop()

    @property
    def event_ids(self) -> set[str]:
        """Every event id published so far."""
        return {event_id for record in self.records for event_id in record.event_ids}

    def first_record_of(self, event_id: str) -> PollRecord:
        """The earliest record (by broker timestamp) holding `event_id`."""
        return min((r for r in self.records if event_id in r.event_ids), key=lambda r: r.timestamp_s)

    async def poll(self, timeout_ms: int = 200) -> None:
        """Read what arrived since the last call."""
        batches = await self._consumer.getmany(*self._partitions, timeout_ms=timeout_ms)
        for batch in batches.values():
            for record in batch:
                headers = RawHeaders.from_kafka(list(record.headers))
                if headers.account != self._username:
                    continue
                body = record.value or b""
                items = reply_event_items(decode_reply(body))
                self.records.append(
                    PollRecord(
                        key=(record.key or b"").decode(),
                        body=body,
                        headers=headers,
                        partition=record.partition,
                        offset=record.offset,
                        timestamp_s=record.timestamp / 1000,
                        event_ids=tuple(str(item["event_id"]) for item in items),
                    )
                )

    async def wait_for_events(self, event_ids: set[str], timeout_s: float = 30.0) -> None:
        """Read until every id of `event_ids` was seen."""
        async with asyncio.timeout(timeout_s):
            while not event_ids <= self.event_ids:
                await self.poll()

    async def drain(self) -> None:
        """Read up to the topic's current end."""
        ends = await self._consumer.end_offsets(self._partitions)
        async with asyncio.timeout(30):
            while [tp for tp, end in ends.items() if await self._consumer.position(tp) < end]:
                await self.poll()
