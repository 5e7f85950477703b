"""Re-mapping stored records with the current mappers: `renormalize` re-reads a range of the raw topic,
`redrive_quarantine` a range of the quarantine topic; both publish what maps to the normalized topic.

Replayed events keep their deterministic ids, so the deduplicator drops those already published; a processor
built with `correction=True` marks them as corrections, which the deduplicator publishes only for events whose
content changed (an unchanged re-mapping stays a duplicate). Neither
job commits anything anywhere: they read with no consumer group, and re-running one only publishes again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from regpipe.contract.errors import RecordDecodeError
from regpipe.contract.raw import RawHeaders
from regpipe.kafka.connection import KafkaConnection
from regpipe.kafka.producer import create_producer
from regpipe.kafka.topics import Topic
from regpipe.normalize.processor import UNKNOWN, Mapped, Processor, Result
from regpipe.normalize.publish import Outgoing, publish_all
from regpipe.replay.ranges import PartitionRange, RangeSpec, TopicReader
from regpipe.streaming.quarantine import read_quarantine_record
from regpipe.streaming.record import ConsumedRecord

__all__ = ["RemapReport", "RemapTopics", "redrive_quarantine", "renormalize"]


@dataclass(frozen=True, slots=True)
class RemapTopics:
    """Where the jobs read and write (the registry's topics unless told otherwise)."""

    raw: str = Topic.RAW.value
    normalized: str = Topic.NORMALIZED.value
    quarantine: str = Topic.QUARANTINE.value


@dataclass
class RemapReport:
    """What a job read, mapped, published and could still not map."""

    ranges: list[PartitionRange] = field(default_factory=list)
    read: int = 0
    skipped: int = 0
    mapped: int = 0
    events: int = 0
    published: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    requarantined: int = 0  # with dry_run: would be
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "dry_run": self.dry_run,
            "ranges": [{"partition": r.partition, "from": r.start, "to": r.end} for r in self.ranges],
            "read": self.read,
            "skipped": self.skipped,
            "mapped": self.mapped,
            "events": self.events,
            "published": self.published,
            "failed": dict(sorted(self.failed.items())),
            "requarantined": self.requarantined,
        }


async def renormalize(
    kafka: KafkaConnection | str,
    processor: Processor,
    spec: RangeSpec,
    *,
    topics: RemapTopics = RemapTopics(),
    dry_run: bool = False,
    timeout_s: float = 30.0,
) -> RemapReport:
    """Map the raw records in `spec` again and publish their events; records that fail are counted, not
    quarantined again (the first pass quarantined them already)."""

    def step(record: Any) -> tuple[Result | None, bool]:
        return processor.process(record), False

    return await _remap(kafka, topics.raw, spec, step, topics, dry_run=dry_run, timeout_s=timeout_s)


async def redrive_quarantine(
    kafka: KafkaConnection | str,
    processor: Processor,
    spec: RangeSpec,
    *,
    reasons: Collection[str] = (),
    sources: Collection[str] = (),
    requarantine: bool = False,
    topics: RemapTopics = RemapTopics(),
    dry_run: bool = False,
    timeout_s: float = 30.0,
) -> RemapReport:
    """Map quarantined records (optionally only some reasons or sources) again; publish what maps now.

    Events carry the lineage of the original raw record. What still fails is counted by its new reason and,
    with `requarantine`, quarantined again (a new quarantine record with the new reason).
    """

    def step(record: Any) -> tuple[Result | None, bool]:
        info, raw = read_quarantine_record(record)
        if (reasons and info.reason not in reasons) or (sources and _source_of(raw) not in sources):
            return None, False
        return processor.process(raw), requarantine

    return await _remap(kafka, topics.quarantine, spec, step, topics, dry_run=dry_run, timeout_s=timeout_s)


async def _remap(
    kafka: KafkaConnection | str,
    topic: str,
    spec: RangeSpec,
    step: Callable[[Any], tuple[Result | None, bool]],
    topics: RemapTopics,
    *,
    dry_run: bool,
    timeout_s: float,
) -> RemapReport:
    report = RemapReport(dry_run=dry_run)
    producer = None if dry_run else create_producer(kafka, client_id="regpipe-replay")
    async with TopicReader(kafka) as reader:
        if producer is not None:
            await producer.start()
        try:
            report.ranges = await reader.resolve(topic, spec)
            async for batch in reader.read(topic, report.ranges, idle_timeout_s=timeout_s):
                outgoing = [out for record in batch for out in _outgoing(report, *step(record), topics)]
                if producer is not None and outgoing:
                    report.published += await publish_all(producer, outgoing, timeout_s=timeout_s)
        finally:
            if producer is not None:
                await producer.stop()
    return report


def _outgoing(report: RemapReport, result: Result | None, requarantine: bool, topics: RemapTopics) -> list[Outgoing]:
    """Count one record's result and return what to publish for it."""
    report.read += 1
    if result is None:
        report.skipped += 1
        return []
    if isinstance(result, Mapped):
        report.mapped += 1
        report.events += len(result.records)
        return [Outgoing(topics.normalized, r.key, r.value, r.headers) for r in result.records]
    report.failed[result.reason.value] += 1
    if not requarantine:
        return []
    report.requarantined += 1
    return [Outgoing(topics.quarantine, result.record.key, result.record.value, result.record.headers)]


def _source_of(raw: ConsumedRecord) -> str:
    try:
        return RawHeaders.from_kafka(tuple(raw.headers)).source.value
    except RecordDecodeError:
        return UNKNOWN
