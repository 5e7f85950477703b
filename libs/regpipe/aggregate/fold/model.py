"""The whole read model as the pure fold computes it: every aggregate by key, and each domain's timeline ids.

`fold(events)` is the reference the store is checked against: the tables must hold exactly what it computes from
the same events, whatever their delivery order and however often each was delivered.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from regpipe.aggregate.fold.batch import BatchKey, BatchState, step_batch
from regpipe.aggregate.fold.coldmail_order import ColdMailOrderState, step_coldmail_order
from regpipe.aggregate.fold.domain import DomainKey, DomainState, step_domain
from regpipe.aggregate.fold.operation import OperationKey, OperationState, step_operation
from regpipe.aggregate.fold.routing import targets
from regpipe.aggregate.fold.task import TaskKey, TaskState, step_task
from regpipe.contract import CanonicalEvent

__all__ = ["ReadModel", "fold"]


@dataclass
class ReadModel:
    """Every aggregate's state by key; `timeline` maps a domain to the ids of its events."""

    domains: dict[DomainKey, DomainState] = field(default_factory=dict)
    batches: dict[BatchKey, BatchState] = field(default_factory=dict)
    tasks: dict[TaskKey, TaskState] = field(default_factory=dict)
    coldmail_orders: dict[str, ColdMailOrderState] = field(default_factory=dict)
    operations: dict[OperationKey, OperationState] = field(default_factory=dict)
    timeline: dict[str, set[uuid.UUID]] = field(default_factory=dict)


def fold(events: Iterable[CanonicalEvent], model: ReadModel | None = None) -> ReadModel:
    """Fold `events` into `model` (a new, empty one by default). Deterministic and free of I/O: the state depends
    only on the set of events (by id), not on their order or repetition."""
    out = model if model is not None else ReadModel()
    for event in events:
        where = targets(event)
        if where.domain is not None:
            out.domains[where.domain] = step_domain(out.domains.get(where.domain), where.domain, event)
            out.timeline.setdefault(where.domain.name, set()).add(event.id)
        if where.batch is not None:
            out.batches[where.batch] = step_batch(out.batches.get(where.batch), where.batch, event)
        if where.task is not None:
            out.tasks[where.task] = step_task(out.tasks.get(where.task), where.task, event)
        if where.coldmail_order is not None:
            order = where.coldmail_order
            out.coldmail_orders[order] = step_coldmail_order(out.coldmail_orders.get(order), order, event)
        if where.operation is not None:
            op = where.operation
            out.operations[op] = step_operation(out.operations.get(op), op, event)
    return out
