"""Listings for browsing the read model (the operator console): domains by name prefix, and order batches, orders,
tasks and transfers newest first, filtered by provider, status and time.

Each listing is keyset-paged on (time, provider, id) descending over the indexes of `0004_console_indexes.sql`, so
a page costs the same wherever it is in the listing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import asyncpg
import idna
import orjson
from pydantic import BaseModel, ConfigDict, Field

from regpipe.aggregate.fold import DomainState
from regpipe.aggregate.read import views
from regpipe.aggregate.read.errors import BadQueryError, NotFoundError
from regpipe.aggregate.read.params import decode_cursor, encode_cursor, parse_domain
from regpipe.aggregate.read.queries import _state_view

__all__ = ["ListingItem", "ListingKind", "ListingQuery", "domain_timeline", "list_recent", "search_domains"]


class ListingKind(StrEnum):
    """What a listing holds."""

    ORDER_BATCHES = "order-batches"
    ORDERS = "orders"
    TASKS = "tasks"
    TRANSFERS = "transfers"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ListingItem(_Model):
    """One row of a listing: enough to show it in a table and link to its page."""

    kind: str = Field(description="order_batch, most_batch_order, order, operation, coldmail_order, task, transfer.")
    provider: str
    id: str
    status: str | None
    time: datetime | None = Field(
        description="Orders and transfers: provider time of the current status; batches and tasks: when the read "
        "model last changed them."
    )
    domain: str | None = None
    batch_id: str | None = None
    count: int | None = Field(default=None, description="Orders of a batch, items of a task or Cold Mail order.")


class ListingQuery(_Model):
    """Filters of a listing; `since`/`until` bound the time column (since <= time < until)."""

    provider: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None


#: Stands for "no time yet" in the sort key (an order whose status has no time sorts last).
_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)

# Each branch selects (kind, provider, id, status, t, domain, batch_id, count) with $1 provider, $2 status,
# $3 since, $4 until, $5-$7 the cursor (t, provider, id); the time column is never NULL in `t`.
_FILTER = (
    " AND ($1::text IS NULL OR {provider} = $1) AND ($2::text IS NULL OR {status} = $2)"
    " AND ($3::timestamptz IS NULL OR {t} >= $3) AND ($4::timestamptz IS NULL OR {t} < $4)"
    " AND ($5::timestamptz IS NULL OR ({t}, {provider}, {id}) < ($5::timestamptz, $6::text, $7::text))"
    " ORDER BY {order} LIMIT $8"
)


def _branch(
    select: str, table_where: str, *, t: str, provider: str, status: str, id_: str, order: str | None = None
) -> str:
    order = order or f"{t} DESC, {provider} DESC, {id_} DESC"
    return (
        f"({select} FROM {table_where}"
        + _FILTER.format(t=t, provider=provider, status=status, id=id_, order=order)
        + ")"
    )


_BATCHES = _branch(
    "SELECT 'order_batch' AS kind, provider, batch_id AS id, status, updated_at AS t, NULL::text AS domain,"
    " NULL::text AS batch_id, order_count AS count",
    "agg_order_batches WHERE true",
    t="updated_at",
    provider="provider",
    status="status",
    id_="agg_order_batches.batch_id",  # qualified: the output column `batch_id` is another (NULL here)
)
_TASKS = _branch(
    "SELECT 'task' AS kind, provider, task_id AS id, status, updated_at AS t, NULL::text AS domain,"
    " NULL::text AS batch_id, succeeded_count + failed_count AS count",
    "agg_tasks WHERE true",
    t="updated_at",
    provider="provider",
    status="status",
    id_="task_id",
)
_TRANSFERS = _branch(
    "SELECT 'transfer' AS kind, provider, op_id AS id, status, coalesce(status_time, updated_at) AS t,"
    " domain, NULL::text AS batch_id,"
    " NULL::integer AS count",
    "agg_operations WHERE kind = 'transfer'",
    t="coalesce(status_time, updated_at)",
    provider="provider",
    status="status",
    id_="op_id",
)
_ORDER_BRANCHES = (
    _branch(
        "SELECT 'most_batch_order' AS kind, provider, order_id AS id, status,"
        " coalesce(status_time, 'epoch'::timestamptz) AS t, domain, batch_id, NULL::integer AS count",
        "agg_orders WHERE true",
        t="coalesce(status_time, 'epoch'::timestamptz)",
        provider="provider",
        status="status",
        id_="order_id",
    ),
    _branch(
        "SELECT kind, provider, op_id AS id, status, coalesce(status_time, updated_at) AS t,"
        " domain, NULL::text AS batch_id,"
        " NULL::integer AS count",
        "agg_operations WHERE kind IN ('order', 'operation')",
        t="coalesce(status_time, updated_at)",
        provider="provider",
        status="status",
        id_="op_id",
    ),
    _branch(
        "SELECT 'coldmail_order' AS kind, 'coldmail' AS provider, order_id AS id,"
        " CASE WHEN settled_at IS NULL THEN 'open' ELSE 'settled' END AS status,"
        " coalesce(last_event_at, last_changed_at) AS t,"
        " NULL::text AS domain, NULL::text AS batch_id, item_count AS count",
        "agg_coldmail_orders WHERE true",
        t="coalesce(last_event_at, last_changed_at)",
        provider="'coldmail'",
        status="CASE WHEN settled_at IS NULL THEN 'open' ELSE 'settled' END",
        id_="order_id",
        order="coalesce(last_event_at, last_changed_at) DESC, order_id DESC",  # the provider is a constant here
    ),
)
_ORDERS = (
    "SELECT * FROM ("  # noqa: S608 - built from the constant branches above, no input
    + " UNION ALL ".join(_ORDER_BRANCHES)
    + ") AS o ORDER BY t DESC, provider DESC, id DESC LIMIT $8"
)
_SQL = {
    ListingKind.ORDER_BATCHES: _BATCHES,
    ListingKind.TASKS: _TASKS,
    ListingKind.TRANSFERS: _TRANSFERS,
    ListingKind.ORDERS: _ORDERS,
}


async def list_recent(
    pool: asyncpg.Pool, kind: ListingKind, query: ListingQuery, *, cursor: str | None = None, limit: int = 50
) -> views.Page[ListingItem]:
    """One page of a listing, newest first."""
    after = decode_cursor(cursor, 3) if cursor else None
    try:
        after_time = datetime.fromisoformat(after[0]) if after else None
    except ValueError as exc:
        raise BadQueryError("cursor is not one this API returned") from exc
    rows = await pool.fetch(
        _SQL[kind],
        query.provider,
        query.status,
        query.since,
        query.until,
        after_time,
        after[1] if after else None,
        after[2] if after else None,
        limit + 1,
    )
    items = [
        ListingItem(
            kind=row["kind"],
            provider=row["provider"],
            id=row["id"],
            status=row["status"],
            time=None if row["t"] == _NO_TIME else row["t"],
            domain=row["domain"],
            batch_id=row["batch_id"],
            count=row["count"],
        )
        for row in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last["t"].isoformat(), last["provider"], last["id"]])
    return views.Page[ListingItem](items=items, next_cursor=next_cursor)


def _ascii_prefix(text: str) -> str:
    """The stored (IDNA, lower-case) form of a name prefix typed in either form; whole labels are encoded."""
    labels = text.strip().lower().split(".")
    try:
        return ".".join(label if label.isascii() else idna.encode(label, uts46=True).decode() for label in labels)
    except idna.IDNAError as exc:
        raise BadQueryError("the name cannot be written in IDNA form") from exc


async def search_domains(
    pool: asyncpg.Pool, prefix: str, *, cursor: str | None = None, limit: int = 50
) -> views.Page[views.DomainState]:
    """Domain states whose stored name starts with `prefix` (Unicode or punycode), by name."""
    if not prefix.strip():
        raise BadQueryError("a search needs at least one character")
    start = _ascii_prefix(prefix)
    after = decode_cursor(cursor, 3) if cursor else None
    rows = await pool.fetch(
        'SELECT state, name, provider, account FROM agg_domains WHERE (name COLLATE "C") >= $1'
        ' AND (name COLLATE "C") < $2'
        " AND ($3::text IS NULL"
        ' OR ((name COLLATE "C"), provider, account) > ($3::text COLLATE "C", $4::text, $5::text))'
        ' ORDER BY (name COLLATE "C"), provider, account LIMIT $6',
        start,
        start + "\U0010ffff",
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


async def domain_timeline(
    pool: asyncpg.Pool, name: str, *, cursor: str | None = None, limit: int = 50
) -> views.Page[views.TimelineItem]:
    """The domain's timeline newest first (provider time, then id): the index of `domain_events`, walked backwards."""
    stored = parse_domain(name)
    after = decode_cursor(cursor, 2) if cursor else None
    try:
        after_time = datetime.fromisoformat(after[0]) if after else None
    except ValueError as exc:
        raise BadQueryError("cursor is not one this API returned") from exc
    rows = await pool.fetch(
        "SELECT event_id, event_time, provider, type, outcome, transport, data FROM agg_timeline WHERE domain = $1"
        " AND ($2::timestamptz IS NULL OR (event_time, event_id) < ($2::timestamptz, $3::uuid))"
        " ORDER BY event_time DESC, event_id DESC LIMIT $4",
        stored,
        after_time,
        after[1] if after else None,
        limit + 1,
    )
    known = rows or after is not None
    if not known and await pool.fetchval("SELECT 1 FROM agg_domains WHERE name = $1 LIMIT 1", stored) is None:
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
        next_cursor = encode_cursor([items[-1].time.isoformat(), str(items[-1].id)])
    return views.Page[views.TimelineItem](items=items, next_cursor=next_cursor)
