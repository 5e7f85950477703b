"""Producing due expiry checkpoints: each (domain, expiry period, checkpoint) recorded once, its event written to the
outbox in the same transaction.

Catch-up after downtime falls out of the rule: a checkpoint stays due from its time until the domain expires, so
the first scan after an outage produces every checkpoint that fell due meanwhile (once each, with its own due time).
A renewal moves `expires_at`, which is part of the key: the new expiry period is armed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from regpipe.aggregate.checkpoints import HORIZON, PROVIDERS_WITH_OWN_REMINDERS, checkpoint_event, due_checkpoints
from regpipe.aggregate.errors import StoreUnavailableError
from regpipe.aggregate.store.connection import CONNECTION_ERRORS
from regpipe.aggregate.store.outbox import write_outbox
from regpipe.contract import CanonicalEvent, Source
from regpipe.observability.metrics import AGGREGATOR_CHECKPOINTS

__all__ = ["produce_due_checkpoints"]

# Domains that no longer exist at the provider get no reminders.
_GONE = ["deleted", "transferred_out", "registration_failed"]


@dataclass(frozen=True, slots=True)
class _Due:
    account: str
    expires_at: datetime
    checkpoint: int
    event: CanonicalEvent


async def produce_due_checkpoints(pool: asyncpg.Pool, *, now: datetime) -> list[CanonicalEvent]:
    """Record and enqueue every checkpoint due at `now` not produced before; returns the new events."""
    try:
        async with pool.acquire() as conn, conn.transaction():
            domains = await conn.fetch(
                "SELECT provider, account, name, expires_at FROM agg_domains WHERE expires_at > $1"
                " AND expires_at <= $2 AND provider <> ALL($3::text[]) AND coalesce(status, '') <> ALL($4::text[])",
                now,
                now + HORIZON,
                [source.value for source in PROVIDERS_WITH_OWN_REMINDERS],
                _GONE,
            )
            candidates = [
                _Due(
                    row["account"],
                    row["expires_at"],
                    days,
                    checkpoint_event(
                        provider=Source(row["provider"]),
                        account=row["account"],
                        domain=row["name"],
                        expires_at=row["expires_at"],
                        checkpoint=days,
                        due_at=due_at,
                        now=now,
                    ),
                )
                for row in domains
                for days, due_at in due_checkpoints(row["expires_at"], now)
            ]
            if not candidates:
                return []
            inserted = await conn.fetch(
                """
                INSERT INTO agg_expiry_checkpoints (provider, account, domain, expires_at, checkpoint, due_at, event_id,
                    produced_at)
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::int[],
                    $6::timestamptz[], $7::uuid[], $8::timestamptz[])
                ON CONFLICT DO NOTHING RETURNING event_id
                """,
                [due.event.source.value for due in candidates],
                [due.account for due in candidates],
                [due.event.subject for due in candidates],
                [due.expires_at for due in candidates],
                [due.checkpoint for due in candidates],
                [due.event.time for due in candidates],
                [due.event.id for due in candidates],
                [now] * len(candidates),
            )
            new_ids = {row["event_id"] for row in inserted}
            produced = [due for due in candidates if due.event.id in new_ids]
            await write_outbox(conn, [due.event for due in produced])
    except CONNECTION_ERRORS as exc:
        raise StoreUnavailableError(f"producing checkpoints failed: {type(exc).__name__}: {exc}") from exc
    for due in produced:
        AGGREGATOR_CHECKPOINTS.labels(due.event.source.value, str(due.checkpoint)).inc()
    return [due.event for due in produced]
