"""The consumer a stage shell drives, as a Protocol, and the factory of the real one.

The shell only needs these few calls, so a test hands it an in-memory consumer and checks the ordering rules
without a broker; services hand it aiokafka's `AIOKafkaConsumer` from `create_consumer`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from regpipe.kafka.connection import KafkaConnection, kafka_connection
from regpipe.streaming.record import ConsumedRecord

__all__ = ["Consumer", "ConsumerSpec", "create_consumer"]


@runtime_checkable
class Consumer(Protocol):
    """The calls of `AIOKafkaConsumer` the shell makes (subscribed, manual commits)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    # aiokafka only accepts its own listener class, so the shell passes one; a fake calls its two coroutines.
    def subscribe(self, topics: list[str], *, listener: ConsumerRebalanceListener) -> None: ...

    async def getmany(
        self, *, timeout_ms: int, max_records: int
    ) -> Mapping[TopicPartition, Sequence[ConsumedRecord]]: ...

    def assignment(self) -> set[TopicPartition]: ...

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None: ...


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    """How a stage's consumer joins its group: offsets are only committed by the stage, never automatically."""

    group_id: str
    client_id: str
    batch_max: int
    session_timeout_ms: int
    auto_offset_reset: Literal["earliest", "latest"] = "earliest"
    # read_committed for input written in transactions: an aborted batch of a killed writer is never read.
    isolation_level: Literal["read_uncommitted", "read_committed"] = "read_uncommitted"
    # How long one batch may take before the group gives the partitions away: a stage that bounds the time per
    # record (the normalizer's mapping deadline) sets it above its worst batch.
    max_poll_interval_ms: int = 300_000


def create_consumer(kafka: KafkaConnection | str, spec: ConsumerSpec) -> AIOKafkaConsumer:
    """An unstarted consumer as `spec` says; the shell starts, subscribes and stops it."""
    return AIOKafkaConsumer(
        **kafka_connection(kafka).client_options(),
        group_id=spec.group_id,
        client_id=spec.client_id,
        enable_auto_commit=False,
        auto_offset_reset=spec.auto_offset_reset,
        isolation_level=spec.isolation_level,
        max_poll_records=spec.batch_max,
        session_timeout_ms=spec.session_timeout_ms,
        heartbeat_interval_ms=max(1000, spec.session_timeout_ms // 3),
        max_poll_interval_ms=spec.max_poll_interval_ms,
    )
