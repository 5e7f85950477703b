"""The latest records of the quarantine topic, as the pipeline page shows them, with the command that redrives each.

Only the quarantine headers and the raw record's routing headers are shown (reason, message, stage, source,
provider event type, raw position): never the value, which may be sealed or hold provider secrets.
"""

from __future__ import annotations

import asyncio
import shlex
from dataclasses import dataclass

from aiokafka.errors import KafkaError

from regpipe.console.errors import SourceUnavailableError
from regpipe.kafka.connection import KafkaConnection
from regpipe.kafka.topics import Topic
from regpipe.replay.errors import ReplayError
from regpipe.replay.ranges import PartitionRange, RangeSpec, TopicReader
from regpipe.streaming.quarantine import read_quarantine_record
from regpipe.streaming.record import ConsumedRecord

__all__ = ["QuarantineReader", "QuarantinedRecord"]

_SHOWN_HEADERS = ("source", "transport", "provider-event-type", "provider-event-id", "account", "received-at")


@dataclass(frozen=True, slots=True)
class QuarantinedRecord:
    """One quarantined record: why, from where, and where it sits (headers only)."""

    partition: int
    offset: int
    reason: str
    message: str
    stage: str
    quarantined_at: str
    raw_position: str
    headers: tuple[tuple[str, str], ...]
    replay_command: str

    @property
    def source(self) -> str:
        """The provider the raw record came from ('' if unknown)."""
        return dict(self.headers).get("source", "")


class QuarantineReader:
    """Reads the newest `per_partition` records of each partition of the quarantine topic (no consumer group)."""

    def __init__(
        self, kafka: KafkaConnection | str, topic: str = Topic.QUARANTINE.value, *, timeout_s: float = 10.0
    ) -> None:
        self._kafka = kafka
        self._topic = topic
        self._timeout_s = timeout_s

    def replay_command(self, partition: int, offset: int) -> str:
        """The `regpipe-replay` command that would map this one record again (dry run first, then without)."""
        words = ["regpipe-replay", "redrive-quarantine"]
        if self._topic != Topic.QUARANTINE.value:
            words += ["--quarantine-topic", self._topic]
        words += ["--partition", str(partition), "--from-offset", str(offset), "--to-offset", str(offset + 1)]
        return shlex.join(words)

    async def latest(self, per_partition: int = 20) -> list[QuarantinedRecord]:
        """The newest records, newest quarantine time first."""
        try:
            return await asyncio.wait_for(self._read(per_partition), timeout=self._timeout_s)
        except (TimeoutError, KafkaError, ReplayError) as exc:
            raise SourceUnavailableError(f"the quarantine topic could not be read ({type(exc).__name__})") from exc

    async def _read(self, per_partition: int) -> list[QuarantinedRecord]:
        found: list[QuarantinedRecord] = []
        async with TopicReader(self._kafka, client_id="regpipe-console") as reader:
            ranges = await reader.resolve(self._topic, RangeSpec())
            tail = [PartitionRange(r.partition, max(r.start, r.end - per_partition), r.end) for r in ranges]
            async for batch in reader.read(self._topic, tail, idle_timeout_s=self._timeout_s):
                found.extend(self._describe(record) for record in batch)
        return sorted(found, key=lambda r: (r.quarantined_at, r.partition, r.offset), reverse=True)

    def _describe(self, record: ConsumedRecord) -> QuarantinedRecord:
        info, raw = read_quarantine_record(record)
        headers = {name: value.decode(errors="replace") for name, value in raw.headers if name in _SHOWN_HEADERS}
        partition, offset = record.partition, record.offset
        return QuarantinedRecord(
            partition=partition,
            offset=offset,
            reason=info.reason,
            message=info.message,
            stage=info.stage,
            quarantined_at=info.quarantined_at,
            raw_position=f"{raw.topic}/{raw.partition}@{raw.offset}",
            headers=tuple((name, headers[name]) for name in _SHOWN_HEADERS if name in headers),
            replay_command=self.replay_command(partition, offset),
        )
