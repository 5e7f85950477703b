"""Reading aggregate states from, and writing them to, their tables (the state JSON plus its queryable copies)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import orjson

from regpipe.aggregate.fold import (
    BatchKey,
    BatchState,
    ColdMailOrderState,
    DomainKey,
    DomainState,
    OperationKey,
    OperationState,
    TaskKey,
    TaskState,
)
from regpipe.aggregate.store.connection import Connection
from regpipe.contract import CanonicalEvent

__all__ = [
    "load_batches",
    "load_coldmail_orders",
    "load_domains",
    "load_operations",
    "load_tasks",
    "save_batches",
    "save_coldmail_orders",
    "save_domains",
    "save_operations",
    "save_tasks",
    "save_timeline",
]


async def load_domains(conn: Connection, keys: Iterable[DomainKey]) -> dict[DomainKey, DomainState]:
    """The stored states of `keys` (absent keys are left out)."""
    wanted = list(keys)
    if not wanted:
        return {}
    rows = await conn.fetch(
        "SELECT d.state FROM agg_domains d JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(p, a, n)"
        " ON d.provider = k.p AND d.account = k.a AND d.name = k.n",
        [k.provider for k in wanted],
        [k.account for k in wanted],
        [k.name for k in wanted],
    )
    states = [DomainState.model_validate_json(row["state"]) for row in rows]
    return {DomainKey(provider=s.provider, account=s.account, name=s.name): s for s in states}


async def save_domains(conn: Connection, states: Sequence[DomainState]) -> None:
    """Upsert domain rows."""
    await conn.executemany(
        """
        INSERT INTO agg_domains (provider, account, name, status, expires_at, nameservers, verification_status,
            registrant_change_status, last_event_id, last_event_type, last_event_time, state, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, now())
        ON CONFLICT (provider, account, name) DO UPDATE SET status = excluded.status,
            expires_at = excluded.expires_at, nameservers = excluded.nameservers,
            verification_status = excluded.verification_status,
            registrant_change_status = excluded.registrant_change_status, last_event_id = excluded.last_event_id,
            last_event_type = excluded.last_event_type, last_event_time = excluded.last_event_time,
            state = excluded.state, updated_at = now()
        """,
        [
            (
                s.provider,
                s.account,
                s.name,
                s.status,
                s.expires_at.value if s.expires_at else None,
                list(s.nameservers.value) if s.nameservers else [],
                s.verification_status.value if s.verification_status else None,
                s.registrant_change_status.value if s.registrant_change_status else None,
                s.last_event.at.event_id if s.last_event else None,
                s.last_event.value if s.last_event else None,
                s.last_event.at.time if s.last_event else None,
                s.model_dump_json(),
            )
            for s in states
        ],
    )


async def load_batches(conn: Connection, keys: Iterable[BatchKey]) -> dict[BatchKey, BatchState]:
    """The stored states of `keys`."""
    wanted = list(keys)
    if not wanted:
        return {}
    rows = await conn.fetch(
        "SELECT b.state FROM agg_order_batches b JOIN unnest($1::text[], $2::text[]) AS k(p, i)"
        " ON b.provider = k.p AND b.batch_id = k.i",
        [k.provider for k in wanted],
        [k.batch_id for k in wanted],
    )
    states = [BatchState.model_validate_json(row["state"]) for row in rows]
    return {BatchKey(provider=s.provider, batch_id=s.batch_id): s for s in states}


async def save_batches(conn: Connection, states: Sequence[BatchState]) -> None:
    """Upsert batch rows and their orders' rows."""
    await conn.executemany(
        """
        INSERT INTO agg_order_batches (provider, batch_id, status, order_count, status_counts, stage1_finished_at,
            stage2_finished_at, state, updated_at)
        VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8::jsonb, now())
        ON CONFLICT (provider, batch_id) DO UPDATE SET status = excluded.status, order_count = excluded.order_count,
            status_counts = excluded.status_counts, stage1_finished_at = excluded.stage1_finished_at,
            stage2_finished_at = excluded.stage2_finished_at, state = excluded.state, updated_at = now()
        """,
        [
            (
                s.provider,
                s.batch_id,
                s.status,
                len(s.orders),
                orjson.dumps(s.status_counts).decode(),
                s.stage1_finished.time if s.stage1_finished else None,
                s.stage2_finished.time if s.stage2_finished else None,
                s.model_dump_json(),
            )
            for s in states
        ],
    )
    orders = [
        (
            s.provider,
            order.order_id,
            s.batch_id,
            order.domain,
            order.current.status,
            order.current.at.time,
            order.current.error.model_dump_json() if order.current.error else None,
        )
        for s in states
        for order in s.orders.values()
        if order.order_id
    ]
    if orders:
        await conn.executemany(
            """
            INSERT INTO agg_orders (provider, order_id, batch_id, domain, status, status_time, error)
            VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
            ON CONFLICT (provider, order_id) DO UPDATE SET batch_id = excluded.batch_id, domain = excluded.domain,
                status = excluded.status, status_time = excluded.status_time, error = excluded.error
            """,
            orders,
        )


async def load_tasks(conn: Connection, keys: Iterable[TaskKey]) -> dict[TaskKey, TaskState]:
    """The stored states of `keys`."""
    wanted = list(keys)
    if not wanted:
        return {}
    rows = await conn.fetch(
        "SELECT t.state FROM agg_tasks t JOIN unnest($1::text[], $2::text[]) AS k(p, i)"
        " ON t.provider = k.p AND t.task_id = k.i",
        [k.provider for k in wanted],
        [k.task_id for k in wanted],
    )
    states = [TaskState.model_validate_json(row["state"]) for row in rows]
    return {TaskKey(provider=s.provider, task_id=s.task_id): s for s in states}


async def save_tasks(conn: Connection, states: Sequence[TaskState]) -> None:
    """Upsert task rows."""
    rows = []
    for s in states:
        report = s.report.value if s.report else None
        rows.append(
            (
                s.provider,
                s.task_id,
                report.task_type if report else None,
                report.status if report else None,
                report.succeeded_count if report else 0,
                report.failed_count if report else 0,
                report.completed_at if report else None,
                s.model_dump_json(),
            )
        )
    await conn.executemany(
        """
        INSERT INTO agg_tasks (provider, task_id, task_type, status, succeeded_count, failed_count, completed_at,
            state, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, now())
        ON CONFLICT (provider, task_id) DO UPDATE SET task_type = excluded.task_type, status = excluded.status,
            succeeded_count = excluded.succeeded_count, failed_count = excluded.failed_count,
            completed_at = excluded.completed_at, state = excluded.state, updated_at = now()
        """,
        rows,
    )


async def load_coldmail_orders(conn: Connection, keys: Iterable[str]) -> dict[str, ColdMailOrderState]:
    """The stored states of `keys`."""
    wanted = list(keys)
    if not wanted:
        return {}
    rows = await conn.fetch("SELECT state FROM agg_coldmail_orders WHERE order_id = ANY($1::text[])", wanted)
    states = [ColdMailOrderState.model_validate_json(row["state"]) for row in rows]
    return {s.order_id: s for s in states}


async def save_coldmail_orders(conn: Connection, states: Sequence[ColdMailOrderState], now: datetime) -> None:
    """Upsert order rows; `now` restarts each one's quiet time (a settled order stays settled)."""
    await conn.executemany(
        """
        INSERT INTO agg_coldmail_orders (order_id, item_count, failed_count, first_event_at, last_event_at,
            last_changed_at, state)
        VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
        ON CONFLICT (order_id) DO UPDATE SET item_count = excluded.item_count, failed_count = excluded.failed_count,
            first_event_at = excluded.first_event_at, last_event_at = excluded.last_event_at,
            last_changed_at = excluded.last_changed_at, state = excluded.state
        """,
        [
            (s.order_id, len(s.items), s.failed_count, s.first_event_at, s.last_event_at, now, s.model_dump_json())
            for s in states
        ],
    )


async def load_operations(conn: Connection, keys: Iterable[OperationKey]) -> dict[OperationKey, OperationState]:
    """The stored states of `keys`."""
    wanted = list(keys)
    if not wanted:
        return {}
    rows = await conn.fetch(
        "SELECT o.state FROM agg_operations o JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(kind, p, i)"
        " ON o.kind = k.kind AND o.provider = k.p AND o.op_id = k.i",
        [k.kind.value for k in wanted],
        [k.provider for k in wanted],
        [k.op_id for k in wanted],
    )
    states = [OperationState.model_validate_json(row["state"]) for row in rows]
    return {OperationKey(kind=s.kind, provider=s.provider, op_id=s.op_id): s for s in states}


async def save_operations(conn: Connection, states: Sequence[OperationState]) -> None:
    """Upsert tracked-operation rows."""
    await conn.executemany(
        """
        INSERT INTO agg_operations (kind, provider, op_id, domain, status, terminal, status_time, state, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, now())
        ON CONFLICT (kind, provider, op_id) DO UPDATE SET domain = excluded.domain, status = excluded.status,
            terminal = excluded.terminal, status_time = excluded.status_time, state = excluded.state,
            updated_at = now()
        """,
        [
            (
                s.kind.value,
                s.provider,
                s.op_id,
                s.domain,
                s.current.value.status if s.current else None,
                s.current.value.terminal if s.current else False,
                s.current.at.time if s.current else None,
                s.model_dump_json(),
            )
            for s in states
        ],
    )


async def save_timeline(conn: Connection, entries: Sequence[tuple[str, CanonicalEvent]]) -> None:
    """Add (domain, event) entries to the timeline (an entry already there is kept)."""
    if not entries:
        return
    await conn.executemany(
        """
        INSERT INTO agg_timeline (domain, event_id, event_time, provider, type, outcome, transport, data)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) ON CONFLICT (domain, event_id) DO NOTHING
        """,
        [
            (
                domain,
                event.id,
                event.time,
                event.source.value,
                event.type.value,
                event.outcome.value,
                event.transport.value,
                orjson.dumps(event.data.model_dump(mode="json")).decode(),
            )
            for domain, event in entries
        ],
    )
