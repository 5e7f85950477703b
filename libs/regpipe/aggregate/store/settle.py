"""Settling Cold Mail orders: an order with no new event for the quiet time is marked settled, and its
`order.settled` event goes to the outbox in the same transaction (each order once: the row says it is settled)."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from regpipe.aggregate.errors import StoreUnavailableError
from regpipe.aggregate.fold import ColdMailOrderState
from regpipe.aggregate.settlement import settled_event
from regpipe.aggregate.store.connection import CONNECTION_ERRORS
from regpipe.aggregate.store.outbox import write_outbox
from regpipe.observability.metrics import AGGREGATOR_SETTLED

__all__ = ["settle_quiet_orders"]


async def settle_quiet_orders(pool: asyncpg.Pool, *, now: datetime, quiet_s: float, limit: int = 500) -> int:
    """Settle up to `limit` orders quiet since `now - quiet_s`; returns how many were settled."""
    try:
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT state FROM agg_coldmail_orders WHERE settled_at IS NULL AND last_changed_at <= $1"
                " ORDER BY last_changed_at LIMIT $2 FOR UPDATE SKIP LOCKED",
                now - timedelta(seconds=quiet_s),
                limit,
            )
            events = [
                settled_event(
                    ColdMailOrderState.model_validate_json(row["state"]), settled_at=now, quiet_period_s=quiet_s
                )
                for row in rows
            ]
            if events:
                await conn.executemany(
                    "UPDATE agg_coldmail_orders SET settled_at = $2, settled_event_id = $3 WHERE order_id = $1",
                    [(event.partition_key, now, event.id) for event in events],
                )
                await write_outbox(conn, events)
    except CONNECTION_ERRORS as exc:
        raise StoreUnavailableError(f"settling orders failed: {type(exc).__name__}: {exc}") from exc
    AGGREGATOR_SETTLED.inc(len(events))
    return len(events)
