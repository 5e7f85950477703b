"""Consumer-group offsets of any stage: what a group has committed on a topic, and resetting them to an offset,
a time, the earliest or the latest offset.

A reset is planned first (per partition: committed offset, target, and the lag the target leaves) and applied
only on request, and only while the group has no active members: moving the offsets of a running group would be
overwritten by its next commit, or race with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

import stamina
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CommitFailedError, KafkaError

from regpipe.kafka.connection import KafkaConnection, kafka_connection
from regpipe.replay.errors import ActiveGroupError, RangeError, ReplayError
from regpipe.replay.ranges import RangeSpec, TopicReader

__all__ = [
    "GroupState",
    "PartitionReset",
    "ResetPlan",
    "ResetTarget",
    "Whence",
    "apply_reset",
    "committed_offsets",
    "describe_group",
    "plan_reset",
]

_T = TypeVar("_T")


class Whence(StrEnum):
    """Where a reset moves a group's offsets to."""

    EARLIEST = "earliest"
    LATEST = "latest"
    OFFSET = "offset"
    TIME = "time"


@dataclass(frozen=True, slots=True)
class ResetTarget:
    """`EARLIEST`, `LATEST`, `OFFSET` (with `offset`, clamped to each partition) or `TIME` (with `time`)."""

    whence: Whence
    offset: int | None = None
    time: datetime | None = None


@dataclass(frozen=True, slots=True)
class GroupState:
    """The broker's view of a consumer group."""

    group_id: str
    state: str
    members: int

    @property
    def active(self) -> bool:
        """True while members are joined (their commits would overwrite a reset)."""
        return self.members > 0


@dataclass(frozen=True, slots=True)
class PartitionReset:
    """One partition of a reset plan; `current` is None when the group never committed there."""

    partition: int
    current: int | None
    target: int
    end: int

    @property
    def lag(self) -> int:
        """Records the group will have to (re-)consume after the reset."""
        return self.end - self.target


@dataclass(frozen=True, slots=True)
class ResetPlan:
    """The offsets a reset would commit for `group_id` on `topic`."""

    group_id: str
    topic: str
    group: GroupState
    partitions: tuple[PartitionReset, ...]


async def describe_group(kafka: KafkaConnection | str, group_id: str) -> GroupState:
    """The group's state and number of members (`Dead` with 0 members for a group that does not exist)."""

    async def describe(admin: Any) -> dict[str, Any]:
        # One group per request: aiokafka mis-parses a response describing several.
        responses = await admin.describe_consumer_groups([group_id])
        described: dict[str, Any] = responses[0].to_object()["groups"][0]
        return described

    group = await _admin_call(kafka, f"describing group {group_id!r}", describe)
    if group["error_code"] != 0:
        raise ReplayError(f"describing group {group_id!r} failed with error code {group['error_code']}")
    return GroupState(group_id=group_id, state=group["state"], members=len(group["members"]))


async def committed_offsets(kafka: KafkaConnection | str, group_id: str, topic: str) -> dict[int, int]:
    """Partition -> the offset `group_id` committed on `topic` (partitions it never committed are absent)."""

    async def list_offsets(admin: Any) -> dict[Any, Any]:
        offsets: dict[Any, Any] = await admin.list_consumer_group_offsets(group_id)
        return offsets

    offsets = await _admin_call(kafka, f"reading the offsets of group {group_id!r}", list_offsets)
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset >= 0}


async def _admin_call(kafka: KafkaConnection | str, what: str, call: Callable[[Any], Awaitable[_T]]) -> _T:
    """`call(admin)`, retried while the broker answers with a retriable error (e.g. on a fresh cluster the group
    coordinator is not available until the offsets topic exists)."""
    admin = AIOKafkaAdminClient(**kafka_connection(kafka).client_options(), client_id="regpipe-replay")
    await admin.start()
    try:
        async for attempt in stamina.retry_context(on=_retriable, attempts=20, timeout=30.0, wait_max=2.0):
            with attempt:
                return await call(admin)
    except KafkaError as exc:
        raise ReplayError(f"{what} failed: {exc}") from exc
    finally:
        await admin.close()
    raise RuntimeError("unreachable: the retry loop either returns or raises")  # pragma: no cover


def _retriable(exc: Exception) -> bool:
    return isinstance(exc, KafkaError) and bool(exc.retriable)


async def plan_reset(
    kafka: KafkaConnection | str, group_id: str, topic: str, target: ResetTarget, *, partition: int | None = None
) -> ResetPlan:
    """What resetting `group_id` on `topic` (one partition or all) to `target` would commit."""
    group = await describe_group(kafka, group_id)
    committed = await committed_offsets(kafka, group_id, topic)
    async with TopicReader(kafka) as reader:
        whole = await reader.resolve(topic, RangeSpec(partition=partition))
        if target.whence is Whence.OFFSET:
            if target.offset is None:
                raise RangeError("an offset reset needs an offset")
            chosen = await reader.resolve(topic, RangeSpec(partition=partition, from_offset=target.offset))
        elif target.whence is Whence.TIME:
            if target.time is None:
                raise RangeError("a time reset needs a time")
            chosen = await reader.resolve(topic, RangeSpec(partition=partition, from_time=target.time))
        else:
            chosen = whole
    rows = []
    for full, picked in zip(whole, chosen, strict=True):
        if target.whence is Whence.EARLIEST:
            goal = full.start
        elif target.whence is Whence.LATEST:
            goal = full.end
        else:
            goal = picked.start
        rows.append(
            PartitionReset(partition=full.partition, current=committed.get(full.partition), target=goal, end=full.end)
        )
    return ResetPlan(group_id=group_id, topic=topic, group=group, partitions=tuple(rows))


async def apply_reset(kafka: KafkaConnection | str, plan: ResetPlan) -> None:
    """Commit the plan's targets for its group; `ActiveGroupError` if the group has members now."""
    group = await describe_group(kafka, plan.group_id)
    if group.active:
        raise ActiveGroupError(
            f"group {plan.group_id!r} has {group.members} active member(s) (state {group.state}); stop them first"
        )
    consumer = AIOKafkaConsumer(
        **kafka_connection(kafka).client_options(),
        group_id=plan.group_id,
        client_id="regpipe-replay",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        # Assigned, not subscribed: the commit is made without joining, and the broker refuses it if members
        # joined since the check above.
        offsets = {TopicPartition(plan.topic, row.partition): row.target for row in plan.partitions}
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    except CommitFailedError as exc:
        raise ActiveGroupError(
            f"group {plan.group_id!r} gained members meanwhile; the broker refused the reset"
        ) from exc
    except KafkaError as exc:
        raise ReplayError(f"resetting group {plan.group_id!r} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        await consumer.stop()
