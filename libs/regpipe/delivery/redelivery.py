"""Redelivery: one event to one endpoint, a time range of events to an endpoint, every dead job since a time.

A redelivery (re)schedules the job of (subscription, event) for now with a fresh attempt count; the body and the
`webhook-id` are the stored event's, so subscribers deduplicate it like any retry. A job being sent right now is
left alone (its outcome decides).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from regpipe.delivery.errors import SubscriptionNotFoundError
from regpipe.delivery.filters import EventFilter
from regpipe.delivery.models import RedeliveryReport

__all__ = ["redeliver_event", "redeliver_failed", "redeliver_range"]

_Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy

_RESCHEDULE = """
INSERT INTO delivery_jobs (subscription_id, event_id, partition_key)
SELECT $1, e.event_id, e.partition_key FROM delivery_events e WHERE e.event_id = ANY($2::uuid[])
ON CONFLICT (subscription_id, event_id) DO UPDATE
SET state = 'pending', attempts = 0, next_attempt_at = now(), lease_owner = NULL, lease_until = NULL,
    redeliveries = delivery_jobs.redeliveries + 1, dlq_published_at = NULL, updated_at = now()
WHERE delivery_jobs.state <> 'sending'
"""


async def _reschedule(connection: _Connection, subscription_id: uuid.UUID, event_ids: list[uuid.UUID]) -> int:
    if not event_ids:
        return 0
    status: str = await connection.execute(_RESCHEDULE, subscription_id, event_ids)
    await connection.execute("SELECT pg_notify('delivery_jobs', '')")
    return int(status.rsplit(" ", 1)[1])


async def _require_subscription(connection: _Connection, subscription_id: uuid.UUID) -> asyncpg.Record:
    row = await connection.fetchrow(
        "SELECT event_types, sources, domain_suffixes FROM delivery_subscriptions WHERE id = $1", subscription_id
    )
    if row is None:
        raise SubscriptionNotFoundError(f"no subscription {subscription_id}")
    return row


async def redeliver_event(pool: asyncpg.Pool, subscription_id: uuid.UUID, event_id: uuid.UUID) -> RedeliveryReport:
    """Send one stored event to one endpoint again (whether or not it matched the endpoint's filters)."""
    async with pool.acquire() as connection, connection.transaction():
        await _require_subscription(connection, subscription_id)
        if await connection.fetchval("SELECT 1 FROM delivery_events WHERE event_id = $1", event_id) is None:
            raise SubscriptionNotFoundError(f"no stored event {event_id}")
        return RedeliveryReport(scheduled=await _reschedule(connection, subscription_id, [event_id]))


async def redeliver_range(
    pool: asyncpg.Pool, subscription_id: uuid.UUID, since: datetime, until: datetime
) -> RedeliveryReport:
    """Send every stored event with since <= time < until that matches the endpoint's filters to it again."""
    async with pool.acquire() as connection, connection.transaction():
        row = await _require_subscription(connection, subscription_id)
        wanted = EventFilter.parse(row["event_types"], row["sources"], row["domain_suffixes"])
        events = await connection.fetch(
            """SELECT event_id, event_type, source, subject FROM delivery_events
               WHERE event_time >= $1 AND event_time < $2""",
            since,
            until,
        )
        ids = [e["event_id"] for e in events if wanted.matches(e["event_type"], e["source"], e["subject"])]
        return RedeliveryReport(scheduled=await _reschedule(connection, subscription_id, ids))


async def redeliver_failed(
    pool: asyncpg.Pool, since: datetime, subscription_id: uuid.UUID | None = None
) -> RedeliveryReport:
    """Give every dead job (of one endpoint, or all) that died at or after `since` a fresh schedule."""
    async with pool.acquire() as connection, connection.transaction():
        status: str = await connection.execute(
            """UPDATE delivery_jobs SET state = 'pending', attempts = 0, next_attempt_at = now(),
                   redeliveries = redeliveries + 1, dlq_published_at = NULL, updated_at = now()
               WHERE state = 'dead' AND updated_at >= $1 AND ($2::uuid IS NULL OR subscription_id = $2)""",
            since,
            subscription_id,
        )
        await connection.execute("SELECT pg_notify('delivery_jobs', '')")
        return RedeliveryReport(scheduled=int(status.rsplit(" ", 1)[1]))
