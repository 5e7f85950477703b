"""Prints the canonical events of the public topic as they come, and counts what flowed through each topic."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

from regpipe.contract import CanonicalEvent, RecordDecodeError, from_kafka_record
from regpipe.kafka.topics import TOPICS, Topic

__all__ = ["FlowCounts", "event_line", "watch_topics"]

_WATCHED = (Topic.RAW, Topic.NORMALIZED, Topic.EVENTS, Topic.QUARANTINE)


@dataclass
class FlowCounts:
    """Records seen per topic, and public events per source/transport."""

    per_topic: Counter[str] = field(default_factory=Counter)
    per_route: Counter[str] = field(default_factory=Counter)
    per_type: Counter[str] = field(default_factory=Counter)
    ids: set[str] = field(default_factory=set)
    doubled: int = 0

    def summary(self) -> str:
        """A few lines for the terminal."""
        lines = [
            "records per topic: " + ", ".join(f"{topic.value}={self.per_topic[topic.value]}" for topic in _WATCHED),
            "public events by source/transport: "
            + ", ".join(f"{route}={count}" for route, count in sorted(self.per_route.items())),
            f"distinct public ids: {len(self.ids)}, ids published twice: {self.doubled}",
        ]
        return "\n".join(lines)


def event_line(event: CanonicalEvent) -> str:
    """One line per public event: time, source, transport, type, outcome, subject, id."""
    subject = event.subject or event.partition_key
    return (
        f"{event.time:%Y-%m-%d %H:%M:%S}  {event.source.value:<8} {event.transport.value:<7} "
        f"{event.type.value:<38} {event.outcome.value:<12} {subject:<34} {str(event.id)[:8]}"
    )


async def watch_topics(bootstrap: str, stop: asyncio.Event, on_line: Callable[[str], None], counts: FlowCounts) -> None:
    """Until `stop`: read the pipeline's topics from the start (read_committed), count them, and hand a line per
    public event to `on_line`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed")
    await consumer.start()
    try:
        # The demo created these topics from the registry, so the registry's partition counts are theirs.
        partitions = [TopicPartition(topic.value, p) for topic in _WATCHED for p in range(TOPICS[topic].partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                counts.per_topic[tp.topic] += len(records)
                if tp.topic != Topic.EVENTS.value:
                    continue
                for record in records:
                    try:
                        event = from_kafka_record(record.value or b"", list(record.headers))
                    except RecordDecodeError as exc:
                        on_line(f"!! undecodable public record at {tp.partition}:{record.offset}: {exc}")
                        continue
                    if str(event.id) in counts.ids:
                        counts.doubled += 1
                    counts.ids.add(str(event.id))
                    counts.per_route[f"{event.source.value}/{event.transport.value}"] += 1
                    counts.per_type[event.type.value] += 1
                    on_line(event_line(event))
    finally:
        await consumer.stop()
