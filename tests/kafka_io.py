"""Test-side Kafka I/O on the real broker: private topics, producing records, reading a topic back, and the one
generic tail (`TopicTail`) every test reads a shared topic with, from where it ended when the test began."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Self, TypeAlias, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from regpipe.contract import CanonicalEvent, to_kafka_record
from regpipe.contract.raw import RawHeaders
from regpipe.kafka.topics import Topic

__all__ = [
    "Decode",
    "Offsets",
    "RawRecord",
    "RawTail",
    "Record",
    "Records",
    "TopicTail",
    "committed_offsets",
    "committed_total",
    "create_topics",
    "end_offsets",
    "header",
    "keep",
    "produce_events",
    "produce_records",
    "raw_of_account",
    "read_all",
    "read_since",
    "read_topic",
    "unique",
    "wait_until_committed",
    "wait_until_committed_at_least",
]

T = TypeVar("T")
Record: TypeAlias = ConsumerRecord[bytes, bytes]
Records: TypeAlias = list[Record]
Offsets: TypeAlias = dict[TopicPartition, int]
#: Turns a consumer record into what the test looks at, or None when the record is not the test's own.
Decode: TypeAlias = Callable[[Record], T | None]
RawTuple: TypeAlias = tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]


async def create_topics(bootstrap: str, names: Iterable[str], *, partitions: int = 3) -> None:
    """Create fresh topics (unique names per test keep tests independent of each other)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name=name, num_partitions=partitions, replication_factor=1) for name in names]
        )
    finally:
        await admin.close()


def unique(prefix: str) -> str:
    """A topic or group name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def produce_records(bootstrap: str, topic: str, records: Iterable[RawTuple]) -> int:
    """Produce (key, value, headers) records and wait for every acknowledgement; returns how many."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        acks = [await producer.send(topic, key=key, value=value, headers=headers) for key, value, headers in records]
        await asyncio.gather(*acks)
        return len(acks)
    finally:
        await producer.stop()


async def produce_events(bootstrap: str, topic: str, events: Iterable[CanonicalEvent]) -> int:
    """Produce canonical events in CloudEvents binary mode; returns how many were acknowledged."""
    records = [to_kafka_record(event) for event in events]
    return await produce_records(bootstrap, topic, [(r.key, r.value, list(r.headers)) for r in records])


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    expect: int | None = None,
    timeout_s: float = 30.0,
    settle_s: float = 1.5,
    isolation_level: str = "read_committed",
) -> list[Any]:
    """Read every record of `topic` from the beginning.

    Returns once `expect` records were read (then waits `settle_s` more, so extra records would be caught), or
    when nothing new arrived for `settle_s` after `timeout_s` passed.
    """
    tail: TopicTail[Record] = TopicTail(bootstrap, keep, topic, from_beginning=True, isolation_level=isolation_level)
    async with tail:
        deadline = time.monotonic() + timeout_s
        last_new = time.monotonic()
        reached_at: float | None = None
        while True:
            if await tail.poll():
                last_new = time.monotonic()
            now = time.monotonic()
            if expect is not None and len(tail.records) >= expect and reached_at is None:
                reached_at = now
            if reached_at is not None and now - reached_at >= settle_s:
                break
            if now >= deadline and now - last_new >= settle_s:
                break
    return list(tail.records)


async def committed_offsets(bootstrap: str, group: str, topic: str) -> tuple[dict[int, int], dict[int, int]]:
    """(committed offset, end offset) per partition of `topic` for consumer group `group`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        # A consumer that subscribes to nothing may not know the topic's partitions yet: wait for its metadata.
        tps = await _partitions(consumer, topic)
        ends = await consumer.end_offsets(tps)
        committed = {tp.partition: (await consumer.committed(tp)) or 0 for tp in tps}
        return committed, {tp.partition: ends[tp] for tp in tps}
    finally:
        await consumer.stop()


async def wait_until_committed(bootstrap: str, group: str, topic: str, *, timeout_s: float = 60.0) -> dict[int, int]:
    """Wait until `group` committed the end offset (as of the call) of every partition of `topic`; return them."""
    _, ends = await committed_offsets(bootstrap, group, topic)
    async with asyncio.timeout(timeout_s):
        while True:
            committed, _ = await committed_offsets(bootstrap, group, topic)
            if all(committed.get(partition, 0) >= end for partition, end in ends.items()):
                return committed
            await asyncio.sleep(0.1)


async def committed_total(bootstrap: str, group: str, topic: str) -> int:
    """How many records of `topic` the group has committed, over all partitions."""
    committed, _ = await committed_offsets(bootstrap, group, topic)
    return sum(committed.values())


async def wait_until_committed_at_least(
    bootstrap: str, group: str, topic: str, count: int, *, timeout_s: float = 60.0
) -> int:
    """Wait until `group` committed at least `count` records of `topic` in all; return how many it has."""
    async with asyncio.timeout(timeout_s):
        while (done := await committed_total(bootstrap, group, topic)) < count:  # noqa: ASYNC110 -- offsets, no event
            await asyncio.sleep(0.05)
    return done


async def read_all(bootstrap: str, topic: str, *, isolation_level: str = "read_committed") -> Records:
    """Every record `topic` holds now, from the beginning up to its current end (no settling wait)."""
    tail: TopicTail[Record] = TopicTail(bootstrap, keep, topic, from_beginning=True, isolation_level=isolation_level)
    async with tail:
        return await tail.drain()


def keep(record: Record) -> Record:
    """The decode function that keeps every record as it is."""
    return record


def header(record: Record, name: str) -> str | None:
    """A header's value as text, None when absent."""
    for key, value in record.headers:
        if key == name:
            text: str = value.decode()
            return text
    return None


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """The topic's partitions, waiting briefly for metadata of a topic created a moment ago."""
    async with asyncio.timeout(10):
        while not (partitions := consumer.partitions_for_topic(topic)):
            await asyncio.sleep(0.1)
            await consumer._client.force_metadata_update()  # no public way to refresh metadata
    return [TopicPartition(topic, partition) for partition in sorted(partitions)]


class TopicTail(Generic[T]):
    """`async with TopicTail(bootstrap, decode) as tail:` ... `await tail.wait_for(n)`: one topic, read from where
    it ended when the tail was opened (or from `since`, or from the beginning), each record through `decode`.

    Shared topics (the raw topic of the whole session) hold other tests' records: `decode` returns None for
    records that are not the test's own, and only the others are kept in `records`.
    """

    def __init__(
        self,
        bootstrap: str,
        decode: Decode[T],
        topic: str = Topic.RAW.value,
        *,
        since: Offsets | None = None,
        from_beginning: bool = False,
        isolation_level: str = "read_uncommitted",
    ) -> None:
        self._decode = decode
        self._topic = topic
        self._since = since
        self._from_beginning = from_beginning
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            group_id=None,
            request_timeout_ms=10_000,
            isolation_level=isolation_level,
        )
        self._partitions: list[TopicPartition] = []
        self.records: list[T] = []

    async def __aenter__(self) -> Self:
        await self._consumer.start()
        try:
            self._partitions = list(self._since) if self._since else await _partitions(self._consumer, self._topic)
            self._consumer.assign(self._partitions)
            if self._since:
                for partition, offset in self._since.items():
                    self._consumer.seek(partition, offset)
            elif self._from_beginning:
                await self._consumer.seek_to_beginning(*self._partitions)
            else:
                for partition, offset in (await self._consumer.end_offsets(self._partitions)).items():
                    self._consumer.seek(partition, offset)
        except BaseException:
            await self._consumer.stop()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._consumer.stop()

    async def poll(self, timeout_ms: int = 200) -> list[T]:
        """Read what arrived since the last call; return the new records that are the test's own."""
        batches = await self._consumer.getmany(*self._partitions, timeout_ms=timeout_ms)
        fresh = [
            decoded for batch in batches.values() for record in batch if (decoded := self._decode(record)) is not None
        ]
        self.records.extend(fresh)
        return fresh

    async def wait_until(self, condition: Callable[[list[T]], bool], timeout_s: float = 30.0) -> list[T]:
        """Read until `condition(records)` holds (TimeoutError after `timeout_s`); return every record so far."""
        async with asyncio.timeout(timeout_s):
            while not condition(self.records):
                await self.poll()
        return list(self.records)

    async def wait_for(self, count: int, timeout_s: float = 30.0) -> list[T]:
        """Read until at least `count` records arrived in all; return them all."""
        return await self.wait_until(lambda records: len(records) >= count, timeout_s)

    async def drain(self, timeout_s: float = 30.0) -> list[T]:
        """Read up to the topic's current end (everything acknowledged so far); return every record seen."""
        ends = await self._consumer.end_offsets(self._partitions)
        async with asyncio.timeout(timeout_s):
            while await self._behind(ends):
                await self.poll()
        return list(self.records)

    async def _behind(self, ends: Offsets) -> bool:
        for partition, end in ends.items():
            if await self._consumer.position(partition) < end:
                return True
        return False


async def end_offsets(bootstrap: str, topic: str = Topic.RAW.value) -> Offsets:
    """Where each partition of `topic` ends now (to read only what a test writes after this point)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, request_timeout_ms=10_000)
    await consumer.start()
    try:
        ends: Offsets = await consumer.end_offsets(await _partitions(consumer, topic))
        return ends
    finally:
        await consumer.stop()


async def read_since(
    bootstrap: str, since: Offsets, *, until: Callable[[Records], bool], timeout_s: float = 30.0
) -> Records:
    """Every record written after `since`, read until `until(records)` holds or `timeout_s` passed, then up to the
    end, so a test can also tell what should NOT be there (it asserts on the result itself)."""
    tail: TopicTail[Record] = TopicTail(bootstrap, keep, since=since)
    async with tail:
        with contextlib.suppress(TimeoutError):  # the caller's assertions say what was missing
            await tail.wait_until(until, timeout_s)
        return await tail.drain()


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One raw record of the test's account, and the provider event ids it holds."""

    key: str
    value: bytes
    headers: RawHeaders
    partition: int
    offset: int
    timestamp_s: float
    event_ids: tuple[str, ...]


def raw_of_account(account: str, event_ids: Callable[[bytes], Iterable[str]] | None = None) -> Decode[RawRecord]:
    """Decodes raw records whose `account` header is `account`; `event_ids` reads the ids out of a value."""

    def decode(record: Record) -> RawRecord | None:
        headers = RawHeaders.from_kafka(list(record.headers))
        if headers.account != account:
            return None
        value = record.value or b""
        return RawRecord(
            key=(record.key or b"").decode(),
            value=value,
            headers=headers,
            partition=record.partition,
            offset=record.offset,
            timestamp_s=record.timestamp / 1000,
            event_ids=tuple(event_ids(value)) if event_ids is not None else (),
        )

    return decode


class RawTail(TopicTail[RawRecord]):
    """The raw records of one account (`raw_of_account`), with the provider event ids each one holds."""

    def __init__(self, bootstrap: str, account: str, event_ids: Callable[[bytes], Iterable[str]] | None = None) -> None:
        super().__init__(bootstrap, raw_of_account(account, event_ids))

    @property
    def event_ids(self) -> set[str]:
        """Every event id published so far."""
        return {event_id for record in self.records for event_id in record.event_ids}

    def first_record_of(self, event_id: str) -> RawRecord:
        """The earliest record (by broker timestamp) holding `event_id` (ValueError if none does)."""
        return min((r for r in self.records if event_id in r.event_ids), key=lambda r: r.timestamp_s)

    async def wait_for_events(self, event_ids: Sequence[str] | set[str], timeout_s: float = 30.0) -> None:
        """Read until every id of `event_ids` was seen."""
        wanted = set(event_ids)
        await self.wait_until(lambda _: wanted <= self.event_ids, timeout_s)
