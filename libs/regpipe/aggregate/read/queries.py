"""The read model's queries, usable by the read API and by any other caller (a web console) as a library.

Listings are cursor-paged on a unique sort key (keyset pagination over the indexes of `0002_aggregator.sql`), so a
page is as cheap at the end of a listing as at its start and no row is skipped or repeated between pages.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import orjson

from regpipe.aggregate.fold import BatchState, ColdMailOrderState, DomainState, OperationState, TaskState
from regpipe.aggregate.read import views
from regpipe.aggregate.read.errors import NotFoundError
from regpipe.aggregate.read.params import decode_cursor, encode_cursor, parse_domain, unicode_name

__all__ = [
    "MAX_PAGE",
    "domain_events",
    "get_batch",
    "get_domain",
    "get_order",
    "get_task",
    "get_transfer",
    "list_domains",
    "read_model_counts",
]

#: The largest page a caller may ask for.
MAX_PAGE = 500


def _state_view(state: DomainState) -> views.DomainState:
    last = state.last_event
    return views.DomainState(
        provider=state.provider,
        account=state.account,
        name=state.name,
        name_unicode=unicode_name(state.name),
        status=state.status,
        expires_at=state.expires_at.value if state.expires_at else None,
        nameservers=list(state.nameservers.value) if state.nameservers else [],
        verification_status=state.verification_status.value if state.verification_status else None,
        registrant_change_status=state.registrant_change_status.value if state.registrant_change_status else None,
        transfer_status=state.transfer_status.value if state.transfer_status else None,
        first_event_at=state.first_event_at,
        last_event=views.LastEvent(id=last.at.event_id, type=last.value, time=last.at.time) if last else None,
    )


async def get_domain(pool: asyncpg.Pool, name: str) -> views.DomainView:
    """Every provider/account state of `name` (Unicode or punycode form)."""
    stored = parse_domain(name)
    rows = await pool.fetch("SELECT state FROM agg_domains WHERE name = $1 ORDER BY provider, account", stored)
    if not rows:
        raise NotFoundError(f"no domain {stored}")
    states = [_state_view(DomainState.model_validate_json(row["state"])) for row in rows]
    return views.DomainView(name=stored, name_unicode=unicode_name(stored), states=states)


async def domain_events(
    pool: asyncpg.Pool, name: str, *, cursor: str | None = None, limit: int = 100
) -> views.Page[views.TimelineItem]:
    """The domain's timeline, oldest first (provider time, then id)."""
    stored = parse_domain(name)
    after = decode_cursor(cursor, 2) if cursor else None
    rows = await pool.fetch(
        "SELECT event_id, event_time, provider, type, outcome, transport, data FROM agg_timeline WHERE domain = $1"
        " AND ($2::timestamptz IS NULL OR (event_time, event_id) > ($2::timestamptz, $3::uuid))"
        " ORDER BY event_time, event_id LIMIT $4",
        stored,
        datetime.fromisoformat(after[0]) if after else None,
        after[1] if after else None,
        limit + 1,
    )
    if not rows and after is None:
        exists = await pool.fetchval("SELECT 1 FROM agg_domains WHERE name = $1 LIMIT 1", stored)
        if not exists:
            raise NotFoundError(f"no domain {stored}")
    items = [
        views.TimelineItem(
            id=row["event_id"],
            time=row["event_time"],
            provider=row["provider"],
            type=row["type"],
            outcome=row["outcome"],
            transport=row["transport"],
            data=orjson.loads(row["data"]),
        )
        for row in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor([last.time.isoformat(), str(last.id)])
    return views.Page[views.TimelineItem](items=items, next_cursor=next_cursor)


async def list_domains(
    pool: asyncpg.Pool,
    *,
    now: datetime,
    status: str | None = None,
    provider: str | None = None,
    expiring_within: timedelta | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> views.Page[views.DomainState]:
    """Domain states filtered by status, provider and expiry within a duration from `now`, by name."""
    after = decode_cursor(cursor, 3) if cursor else None
    rows = await pool.fetch(
        "SELECT state, name, provider, account FROM agg_domains"
        " WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR provider = $2)"
        " AND ($3::timestamptz IS NULL OR (expires_at > $4 AND expires_at <= $3))"
        " AND ($5::text IS NULL OR (name, provider, account) > ($5, $6, $7))"
        " ORDER BY name, provider, account LIMIT $8",
        status,
        provider,
        now + expiring_within if expiring_within is not None else None,
        now,
        after[0] if after else None,
        after[1] if after else None,
        after[2] if after else None,
        limit + 1,
    )
    items = [_state_view(DomainState.model_validate_json(row["state"])) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last["name"], last["provider"], last["account"]])
    return views.Page[views.DomainState](items=items, next_cursor=next_cursor)


def _history(state: OperationState) -> list[views.HistoryItem]:
    return [
        views.HistoryItem(time=h.at.time, event_id=h.at.event_id, type=h.type, status=h.status) for h in state.history
    ]


def _batch_order(state: BatchState, key: str) -> views.OrderView:
    order = state.orders[key]
    status = order.current.status
    return views.OrderView(
        kind="most_batch_order",
        provider=state.provider,
        order_id=order.order_id or key,
        status=status,
        terminal=(status or "").upper() in ("COMPLETED", "FAILED"),
        domain=order.domain,
        batch_id=state.batch_id,
        status_time=order.current.at.time,
        error=order.current.error,
    )


async def get_batch(pool: asyncpg.Pool, batch_id: str) -> views.BatchView:
    """A Most order batch and its orders."""
    row = await pool.fetchrow(
        "SELECT state FROM agg_order_batches WHERE batch_id = $1 ORDER BY provider LIMIT 1", batch_id
    )
    if row is None:
        raise NotFoundError(f"no order batch {batch_id}")
    state = BatchState.model_validate_json(row["state"])
    return views.BatchView(
        provider=state.provider,
        batch_id=state.batch_id,
        status=state.status,
        order_count=len(state.orders),
        status_counts=state.status_counts,
        stage1_finished_at=state.stage1_finished.time if state.stage1_finished else None,
        stage2_finished_at=state.stage2_finished.time if state.stage2_finished else None,
        orders=[_batch_order(state, key) for key in state.orders],
    )


async def get_order(pool: asyncpg.Pool, order_id: str) -> views.OrderView:
    """An order by id: an order of a Most batch, a tracked provider order, or a Cold Mail order (in that order)."""
    row = await pool.fetchrow(
        "SELECT b.state, o.order_id FROM agg_orders o JOIN agg_order_batches b"
        " ON b.provider = o.provider AND b.batch_id = o.batch_id WHERE o.order_id = $1 ORDER BY o.provider LIMIT 1",
        order_id,
    )
    if row is not None:
        state = BatchState.model_validate_json(row["state"])
        return _batch_order(state, order_id)
    row = await pool.fetchrow(
        "SELECT state FROM agg_operations WHERE kind = 'order' AND op_id = $1 ORDER BY provider LIMIT 1", order_id
    )
    if row is not None:
        op = OperationState.model_validate_json(row["state"])
        return views.OrderView(
            kind="opensrs_order" if op.provider == "opensrs" else f"{op.provider}_order",
            provider=op.provider,
            order_id=op.op_id,
            status=op.current.value.status if op.current else None,
            terminal=op.current.value.terminal if op.current else False,
            domain=op.domain,
            status_time=op.current.at.time if op.current else None,
            history=_history(op),
        )
    row = await pool.fetchrow("SELECT state, settled_at FROM agg_coldmail_orders WHERE order_id = $1", order_id)
    if row is None:
        raise NotFoundError(f"no order {order_id}")
    order = ColdMailOrderState.model_validate_json(row["state"])
    return views.OrderView(
        kind="coldmail_order",
        provider="coldmail",
        order_id=order.order_id,
        status="settled" if row["settled_at"] is not None else "open",
        terminal=row["settled_at"] is not None,
        status_time=order.last_event_at,
        settled_at=row["settled_at"],
        items=[item.model_dump(mode="json", exclude={"at"}) for item in order.items.values()],
    )


async def get_task(pool: asyncpg.Pool, task_id: str) -> views.TaskView:
    """A Most bulk task and its items."""
    row = await pool.fetchrow("SELECT state FROM agg_tasks WHERE task_id = $1 ORDER BY provider LIMIT 1", task_id)
    if row is None:
        raise NotFoundError(f"no task {task_id}")
    state = TaskState.model_validate_json(row["state"])
    report = state.report.value if state.report else None
    return views.TaskView(
        provider=state.provider,
        task_id=state.task_id,
        task_type=report.task_type if report else None,
        status=report.status if report else None,
        succeeded_count=report.succeeded_count if report else 0,
        failed_count=report.failed_count if report else 0,
        created_at=report.created_at if report else None,
        completed_at=report.completed_at if report else None,
        items=list(report.items) if report else [],
    )


async def get_transfer(pool: asyncpg.Pool, transfer_id: str) -> views.TransferView:
    """A transfer by its provider id (or `<domain>:<direction>` where the provider gives none)."""
    row = await pool.fetchrow(
        "SELECT state FROM agg_operations WHERE kind = 'transfer' AND op_id = $1 ORDER BY provider LIMIT 1",
        transfer_id,
    )
    if row is None:
        raise NotFoundError(f"no transfer {transfer_id}")
    op = OperationState.model_validate_json(row["state"])
    return views.TransferView(
        provider=op.provider,
        transfer_id=op.op_id,
        domain=op.domain,
        status=op.current.value.status if op.current else None,
        terminal=op.current.value.terminal if op.current else False,
        status_time=op.current.at.time if op.current else None,
        history=_history(op),
    )


async def read_model_counts(pool: asyncpg.Pool) -> dict[str, int]:
    """Row counts of the read model (for the run command's live line)."""
    row = await pool.fetchrow(
        "SELECT (SELECT count(*) FROM agg_domains) AS domains, (SELECT count(*) FROM agg_order_batches) AS batches,"
        " (SELECT count(*) FROM agg_orders) AS orders, (SELECT count(*) FROM agg_tasks) AS tasks,"
        " (SELECT count(*) FROM agg_coldmail_orders) AS coldmail_orders,"
        " (SELECT count(*) FROM agg_operations) AS operations, (SELECT count(*) FROM agg_timeline) AS events,"
        " (SELECT count(*) FROM agg_expiry_checkpoints) AS checkpoints"
    )
    return dict(row) if row is not None else {}
