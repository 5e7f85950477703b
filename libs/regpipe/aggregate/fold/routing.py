"""Which aggregates one canonical event updates: a pure function of the event.

The aggregator's own events (transport `pipeline`) update nothing, so it never feeds on its output.
"""

from __future__ import annotations

from dataclasses import dataclass

from regpipe.aggregate.fold.batch import BatchKey
from regpipe.aggregate.fold.coldmail_order import coldmail_order_id
from regpipe.aggregate.fold.domain import DomainKey
from regpipe.aggregate.fold.operation import OperationKey, operation_key
from regpipe.aggregate.fold.task import TaskKey
from regpipe.contract import CanonicalEvent, Source, Transport
from regpipe.contract.events import OrderBatchEventData, OrderStatusChanged, TaskCompleted

__all__ = ["Targets", "is_own", "targets"]


@dataclass(frozen=True, slots=True)
class Targets:
    """The keys of every aggregate an event updates (None: not that one)."""

    domain: DomainKey | None = None
    batch: BatchKey | None = None
    task: TaskKey | None = None
    coldmail_order: str | None = None
    operation: OperationKey | None = None

    @property
    def timeline(self) -> str | None:
        """The domain whose timeline the event joins."""
        return self.domain.name if self.domain is not None else None


def is_own(event: CanonicalEvent) -> bool:
    """Whether the pipeline produced the event itself (settled orders, expiry checkpoints)."""
    return event.transport is Transport.PIPELINE


def _batch_key(event: CanonicalEvent) -> BatchKey | None:
    data = event.data
    if isinstance(data, OrderBatchEventData):
        return BatchKey(provider=event.source.value, batch_id=data.batch_id)
    if isinstance(data, OrderStatusChanged) and data.batch_id and event.source is Source.MOST:
        return BatchKey(provider=event.source.value, batch_id=data.batch_id)
    return None


def targets(event: CanonicalEvent) -> Targets:
    """Every aggregate `event` updates (none for the pipeline's own events)."""
    if is_own(event):
        return Targets()
    data = event.data
    return Targets(
        domain=DomainKey(provider=event.source.value, name=event.subject) if event.subject else None,
        batch=_batch_key(event),
        task=TaskKey(provider=event.source.value, task_id=data.task_id) if isinstance(data, TaskCompleted) else None,
        coldmail_order=coldmail_order_id(event),
        operation=operation_key(event),
    )
