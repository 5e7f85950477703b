"""Reading aggregate states from, and writing them to, their tables (the state JSON plus its queryable copies).

One batch costs two statements whatever it touches: every state it folds is read by one `UNION ALL` query, and every
row it writes goes in one statement of data-modifying CTEs, each an `INSERT ... SELECT FROM unnest(...)` upsert.
Against a `executemany` per table (one server-side execution per row, a round trip per table) this is what made the
store's share of a batch small (`docs/aggregator.md`, Measurements). The CTEs touch different tables, so the
order PostgreSQL runs them in does not matter; keys are unique within each array (an upsert may not touch one row
twice in a statement), which `Changes` guarantees.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
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

__all__ = ["Changes", "LoadedStates", "load_states", "save_changes"]

_LOAD = """
SELECT 'd' AS kind, d.state FROM agg_domains d JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(p, a, n)
    ON d.provider = k.p AND d.account = k.a AND d.name = k.n
UNION ALL
SELECT 'b', b.state FROM agg_order_batches b JOIN unnest($4::text[], $5::text[]) AS k(p, i)
    ON b.provider = k.p AND b.batch_id = k.i
UNION ALL
SELECT 't', t.state FROM agg_tasks t JOIN unnest($6::text[], $7::text[]) AS k(p, i)
    ON t.provider = k.p AND t.task_id = k.i
UNION ALL
SELECT 'c', c.state FROM agg_coldmail_orders c WHERE c.order_id = ANY($8::text[])
UNION ALL
SELECT 'o', o.state FROM agg_operations o JOIN unnest($9::text[], $10::text[], $11::text[]) AS k(kind, p, i)
    ON o.kind = k.kind AND o.provider = k.p AND o.op_id = k.i
"""

_SAVE = """
WITH domains AS (
    INSERT INTO agg_domains (provider, account, name, status, expires_at, nameservers, verification_status,
        registrant_change_status, last_event_id, last_event_type, last_event_time, state, updated_at)
    SELECT p, a, n, s, e, ARRAY(SELECT jsonb_array_elements_text(ns)), v, r, li, lt, lw, st::jsonb, now()
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::jsonb[], $7::text[],
        $8::text[], $9::uuid[], $10::text[], $11::timestamptz[], $12::text[])
        AS k(p, a, n, s, e, ns, v, r, li, lt, lw, st)
    ON CONFLICT (provider, account, name) DO UPDATE SET status = excluded.status,
        expires_at = excluded.expires_at, nameservers = excluded.nameservers,
        verification_status = excluded.verification_status,
        registrant_change_status = excluded.registrant_change_status, last_event_id = excluded.last_event_id,
        last_event_type = excluded.last_event_type, last_event_time = excluded.last_event_time,
        state = excluded.state, updated_at = now()
), batches AS (
    INSERT INTO agg_order_batches (provider, batch_id, status, order_count, status_counts, stage1_finished_at,
        stage2_finished_at, state, updated_at)
    SELECT p, i, s, c, sc::jsonb, f1, f2, st::jsonb, now()
    FROM unnest($13::text[], $14::text[], $15::text[], $16::int[], $17::text[], $18::timestamptz[],
        $19::timestamptz[], $20::text[]) AS k(p, i, s, c, sc, f1, f2, st)
    ON CONFLICT (provider, batch_id) DO UPDATE SET status = excluded.status, order_count = excluded.order_count,
        status_counts = excluded.status_counts, stage1_finished_at = excluded.stage1_finished_at,
        stage2_finished_at = excluded.stage2_finished_at, state = excluded.state, updated_at = now()
), orders AS (
    INSERT INTO agg_orders (provider, order_id, batch_id, domain, status, status_time, error)
    SELECT p, o, b, d, s, w, er::jsonb
    FROM unnest($21::text[], $22::text[], $23::text[], $24::text[], $25::text[], $26::timestamptz[], $27::text[])
        AS k(p, o, b, d, s, w, er)
    ON CONFLICT (provider, order_id) DO UPDATE SET batch_id = excluded.batch_id, domain = excluded.domain,
        status = excluded.status, status_time = excluded.status_time, error = excluded.error
), tasks AS (
    INSERT INTO agg_tasks (provider, task_id, task_type, status, succeeded_count, failed_count, completed_at,
        state, updated_at)
    SELECT p, i, ty, s, ok, ko, c, st::jsonb, now()
    FROM unnest($28::text[], $29::text[], $30::text[], $31::text[], $32::int[], $33::int[], $34::timestamptz[],
        $35::text[]) AS k(p, i, ty, s, ok, ko, c, st)
    ON CONFLICT (provider, task_id) DO UPDATE SET task_type = excluded.task_type, status = excluded.status,
        succeeded_count = excluded.succeeded_count, failed_count = excluded.failed_count,
        completed_at = excluded.completed_at, state = excluded.state, updated_at = now()
), coldmail AS (
    INSERT INTO agg_coldmail_orders (order_id, item_count, failed_count, first_event_at, last_event_at,
        last_changed_at, state)
    SELECT o, ic, fc, f, l, $42::timestamptz, st::jsonb
    FROM unnest($36::text[], $37::int[], $38::int[], $39::timestamptz[], $40::timestamptz[], $41::text[])
        AS k(o, ic, fc, f, l, st)
    ON CONFLICT (order_id) DO UPDATE SET item_count = excluded.item_count, failed_count = excluded.failed_count,
        first_event_at = excluded.first_event_at, last_event_at = excluded.last_event_at,
        last_changed_at = excluded.last_changed_at, state = excluded.state
), operations AS (
    INSERT INTO agg_operations (kind, provider, op_id, domain, status, terminal, status_time, state, updated_at)
    SELECT ki, p, i, d, s, te, w, st::jsonb, now()
    FROM unnest($43::text[], $44::text[], $45::text[], $46::text[], $47::text[], $48::bool[], $49::timestamptz[],
        $50::text[]) AS k(ki, p, i, d, s, te, w, st)
    ON CONFLICT (kind, provider, op_id) DO UPDATE SET domain = excluded.domain, status = excluded.status,
        terminal = excluded.terminal, status_time = excluded.status_time, state = excluded.state,
        updated_at = now()
), timeline AS (
    INSERT INTO agg_timeline (domain, event_id, event_time, provider, type, outcome, transport, data)
    SELECT d, i, w, p, ty, o, tr, da::jsonb
    FROM unnest($51::text[], $52::uuid[], $53::timestamptz[], $54::text[], $55::text[], $56::text[], $57::text[],
        $58::text[]) AS k(d, i, w, p, ty, o, tr, da)
    ON CONFLICT (domain, event_id) DO NOTHING
)
SELECT 1
"""


@dataclass
class LoadedStates:
    """The stored states of the keys asked for (absent keys are left out)."""

    domains: dict[DomainKey, DomainState] = field(default_factory=dict)
    batches: dict[BatchKey, BatchState] = field(default_factory=dict)
    tasks: dict[TaskKey, TaskState] = field(default_factory=dict)
    coldmail_orders: dict[str, ColdMailOrderState] = field(default_factory=dict)
    operations: dict[OperationKey, OperationState] = field(default_factory=dict)


async def load_states(
    conn: Connection,
    *,
    domains: Collection[DomainKey],
    batches: Collection[BatchKey],
    tasks: Collection[TaskKey],
    coldmail_orders: Collection[str],
    operations: Collection[OperationKey],
) -> LoadedStates:
    """Every stored state of the given keys, read in one query."""
    out = LoadedStates()
    if not (domains or batches or tasks or coldmail_orders or operations):
        return out
    rows = await conn.fetch(
        _LOAD,
        [k.provider for k in domains],
        [k.account for k in domains],
        [k.name for k in domains],
        [k.provider for k in batches],
        [k.batch_id for k in batches],
        [k.provider for k in tasks],
        [k.task_id for k in tasks],
        list(coldmail_orders),
        [k.kind.value for k in operations],
        [k.provider for k in operations],
        [k.op_id for k in operations],
    )
    for kind, state in rows:
        if kind == "d":
            d = DomainState.model_validate_json(state)
            out.domains[DomainKey(provider=d.provider, account=d.account, name=d.name)] = d
        elif kind == "b":
            b = BatchState.model_validate_json(state)
            out.batches[BatchKey(provider=b.provider, batch_id=b.batch_id)] = b
        elif kind == "t":
            t = TaskState.model_validate_json(state)
            out.tasks[TaskKey(provider=t.provider, task_id=t.task_id)] = t
        elif kind == "c":
            c = ColdMailOrderState.model_validate_json(state)
            out.coldmail_orders[c.order_id] = c
        else:
            o = OperationState.model_validate_json(state)
            out.operations[OperationKey(kind=o.kind, provider=o.provider, op_id=o.op_id)] = o
    return out


@dataclass
class Changes:
    """The new states of one batch (one per key) and its timeline entries (one per domain and event)."""

    domains: Sequence[DomainState] = ()
    batches: Sequence[BatchState] = ()
    tasks: Sequence[TaskState] = ()
    coldmail_orders: Sequence[ColdMailOrderState] = ()
    operations: Sequence[OperationState] = ()
    timeline: Sequence[tuple[str, CanonicalEvent]] = ()


def _columns(rows: Sequence[tuple[object, ...]], width: int) -> list[list[object]]:
    """Row tuples as one list per column (the arrays `unnest` takes)."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


def _domain_rows(states: Sequence[DomainState]) -> list[tuple[object, ...]]:
    return [
        (
            s.provider,
            s.account,
            s.name,
            s.status,
            s.expires_at.value if s.expires_at else None,
            orjson.dumps(s.nameservers.value if s.nameservers else ()).decode(),
            s.verification_status.value if s.verification_status else None,
            s.registrant_change_status.value if s.registrant_change_status else None,
            s.last_event.at.event_id if s.last_event else None,
            s.last_event.value if s.last_event else None,
            s.last_event.at.time if s.last_event else None,
            s.model_dump_json(),
        )
        for s in states
    ]


def _batch_rows(states: Sequence[BatchState]) -> list[tuple[object, ...]]:
    return [
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
    ]


def _order_rows(states: Sequence[BatchState]) -> list[tuple[object, ...]]:
    # One row per (provider, order id): should two batches name the same order, the later state in `states` wins,
    # as it did when the rows were written one after another.
    rows: dict[tuple[str, str], tuple[object, ...]] = {}
    for s in states:
        for order in s.orders.values():
            if order.order_id:
                rows[(s.provider, order.order_id)] = (
                    s.provider,
                    order.order_id,
                    s.batch_id,
                    order.domain,
                    order.current.status,
                    order.current.at.time,
                    order.current.error.model_dump_json() if order.current.error else None,
                )
    return list(rows.values())


def _task_rows(states: Sequence[TaskState]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
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
    return rows


def _coldmail_rows(states: Sequence[ColdMailOrderState]) -> list[tuple[object, ...]]:
    return [
        (s.order_id, len(s.items), s.failed_count, s.first_event_at, s.last_event_at, s.model_dump_json())
        for s in states
    ]


def _operation_rows(states: Sequence[OperationState]) -> list[tuple[object, ...]]:
    return [
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
    ]


def _timeline_rows(entries: Sequence[tuple[str, CanonicalEvent]]) -> list[tuple[object, ...]]:
    return [
        (
            domain,
            event.id,
            event.time,
            event.source.value,
            event.type.value,
            event.outcome.value,
            event.transport.value,
            event.data.model_dump_json(),  # jsonb keeps the value, not the text: no need for the JSON-mode dump
        )
        for domain, event in entries
    ]


async def save_changes(conn: Connection, changes: Changes, *, now: datetime) -> None:
    """Upsert every changed row and add the timeline entries (one already there is kept), in one statement; `now`
    restarts each changed Cold Mail order's quiet time (a settled order stays settled)."""
    await conn.fetchval(
        _SAVE,
        *_columns(_domain_rows(changes.domains), 12),
        *_columns(_batch_rows(changes.batches), 8),
        *_columns(_order_rows(changes.batches), 7),
        *_columns(_task_rows(changes.tasks), 8),
        *_columns(_coldmail_rows(changes.coldmail_orders), 6),
        now,
        *_columns(_operation_rows(changes.operations), 8),
        *_columns(_timeline_rows(changes.timeline), 8),
    )
