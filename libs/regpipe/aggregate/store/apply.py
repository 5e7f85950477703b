"""Applying canonical events to the read model: one PostgreSQL transaction per batch of events, six round trips
whatever the batch holds (begin, record ids, lock, read states, write rows, commit).

Guarantee: effectively-once state. The transaction records each new event id in `agg_applied_events` together with
every change the event causes (aggregate rows, timeline), so a re-delivered event (a redelivery after a crash, a
second replica during a rebalance) finds its id and changes nothing, and a crash before the commit leaves nothing.
The rows hold exactly what the pure fold (`regpipe.aggregate.fold`) computes, because the store runs that fold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from regpipe.aggregate.errors import StoreUnavailableError
from regpipe.aggregate.fold import (
    BatchKey,
    DomainKey,
    OperationKey,
    TaskKey,
    step_batch,
    step_coldmail_order,
    step_domain,
    step_operation,
    step_task,
    targets,
)
from regpipe.aggregate.store import tables
from regpipe.aggregate.store.connection import CONNECTION_ERRORS, Connection
from regpipe.aggregate.store.locks import aggregate_lock_key, lock_aggregates
from regpipe.contract import CanonicalEvent

__all__ = ["CONNECTION_ERRORS", "ApplyResult", "apply_events"]


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """How many events were new (applied now) and how many had been applied before."""

    applied: int
    duplicates: int


async def apply_events(pool: asyncpg.Pool, events: Sequence[CanonicalEvent], *, now: datetime) -> ApplyResult:
    """Apply `events` in one transaction; raises `StoreUnavailableError` when nothing could be committed."""
    try:
        async with pool.acquire() as conn, conn.transaction():
            return await _apply(conn, events, now)
    except CONNECTION_ERRORS as exc:
        raise StoreUnavailableError(f"applying {len(events)} events failed: {type(exc).__name__}: {exc}") from exc


async def _apply(conn: Connection, events: Sequence[CanonicalEvent], now: datetime) -> ApplyResult:
    unique = list({event.id: event for event in events}.values())
    if not unique:
        return ApplyResult(applied=0, duplicates=len(events))
    rows = await conn.fetch(
        "INSERT INTO agg_applied_events (event_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id",
        [event.id for event in unique],
    )
    new_ids = {row["event_id"] for row in rows}
    fresh = [event for event in unique if event.id in new_ids]
    if not fresh:  # a redelivered batch: nothing to lock, read or write
        return ApplyResult(applied=0, duplicates=len(events))
    routed = [(event, targets(event)) for event in fresh]

    domain_keys = {t.domain for _, t in routed if t.domain is not None}
    batch_keys = {t.batch for _, t in routed if t.batch is not None}
    task_keys = {t.task for _, t in routed if t.task is not None}
    order_keys = {t.coldmail_order for _, t in routed if t.coldmail_order is not None}
    op_keys = {t.operation for _, t in routed if t.operation is not None}
    await lock_aggregates(conn, _lock_keys(domain_keys, batch_keys, task_keys, order_keys, op_keys))

    loaded = await tables.load_states(
        conn, domains=domain_keys, batches=batch_keys, tasks=task_keys, coldmail_orders=order_keys, operations=op_keys
    )
    domains, batches, tasks = loaded.domains, loaded.batches, loaded.tasks
    orders, operations = loaded.coldmail_orders, loaded.operations
    timeline: list[tuple[str, CanonicalEvent]] = []
    for event, where in routed:
        if where.domain is not None:
            domains[where.domain] = step_domain(domains.get(where.domain), where.domain, event)
            timeline.append((where.domain.name, event))
        if where.batch is not None:
            batches[where.batch] = step_batch(batches.get(where.batch), where.batch, event)
        if where.task is not None:
            tasks[where.task] = step_task(tasks.get(where.task), where.task, event)
        if where.coldmail_order is not None:
            key = where.coldmail_order
            orders[key] = step_coldmail_order(orders.get(key), key, event)
        if where.operation is not None:
            operations[where.operation] = step_operation(operations.get(where.operation), where.operation, event)

    changes = tables.Changes(
        domains=[domains[k] for k in sorted(domain_keys, key=_domain_sort)],
        batches=[batches[k] for k in batch_keys],
        tasks=[tasks[k] for k in task_keys],
        coldmail_orders=[orders[k] for k in sorted(order_keys)],
        operations=[operations[k] for k in op_keys],
        timeline=timeline,
    )
    await tables.save_changes(conn, changes, now=now)
    return ApplyResult(applied=len(fresh), duplicates=len(events) - len(fresh))


def _domain_sort(key: DomainKey) -> tuple[str, str, str]:
    return (key.provider, key.account, key.name)


def _lock_keys(
    domains: set[DomainKey], batches: set[BatchKey], tasks: set[TaskKey], orders: set[str], ops: set[OperationKey]
) -> list[int]:
    keys = [aggregate_lock_key("domain", k.provider, k.account, k.name) for k in domains]
    keys += [aggregate_lock_key("batch", k.provider, k.batch_id) for k in batches]
    keys += [aggregate_lock_key("task", k.provider, k.task_id) for k in tasks]
    keys += [aggregate_lock_key("coldmail-order", k) for k in orders]
    keys += [aggregate_lock_key("operation", k.kind.value, k.provider, k.op_id) for k in ops]
    return keys
