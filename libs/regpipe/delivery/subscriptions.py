"""Commands and queries on subscriptions: create, list, rotate the secret, enable, disable.

Shared by the admin API, the CLI and any console: each takes the pool and returns typed models.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg
from pydantic import SecretStr

from regpipe.contract.sealing import RawSealer
from regpipe.delivery.address_guard import AddressGuard
from regpipe.delivery.errors import SubscriptionNotFoundError
from regpipe.delivery.filters import EventFilter
from regpipe.delivery.models import CreatedSubscription, EndpointHealth, RotatedSecret, Subscription, SubscriptionSpec
from regpipe.delivery.signing import NO_SEALING, generate_secret, seal_secret

__all__ = [
    "DEFAULT_OVERLAP_S",
    "create_subscription",
    "get_subscription",
    "list_subscriptions",
    "rotate_secret",
    "set_enabled",
]

#: How long a rotated-out secret keeps signing by default.
DEFAULT_OVERLAP_S = 24 * 3600

_INSERT_SECRET = "INSERT INTO delivery_secrets (subscription_id, secret, seal_kid) VALUES ($1, $2, $3)"  # noqa: S105 - SQL

_SELECT = """
SELECT s.*, h.last_success_at, h.last_failure_at, h.failing_since, h.consecutive_failures, h.paused_until
FROM delivery_subscriptions s LEFT JOIN delivery_endpoint_health h ON h.subscription_id = s.id
"""


def _subscription(row: asyncpg.Record) -> Subscription:
    return Subscription(
        id=row["id"],
        url=row["url"],
        description=row["description"],
        event_types=list(row["event_types"]),
        sources=list(row["sources"]),
        domain_suffixes=list(row["domain_suffixes"]),
        enabled=row["enabled"],
        disabled_reason=row["disabled_reason"],
        max_concurrency=row["max_concurrency"],
        rate_limit_per_s=row["rate_limit_per_s"],
        ordered=row["ordered"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        health=EndpointHealth(
            last_success_at=row["last_success_at"],
            last_failure_at=row["last_failure_at"],
            failing_since=row["failing_since"],
            consecutive_failures=row["consecutive_failures"] or 0,
            paused_until=row["paused_until"],
        ),
    )


async def create_subscription(
    pool: asyncpg.Pool, guard: AddressGuard, spec: SubscriptionSpec, sealer: RawSealer = NO_SEALING
) -> CreatedSubscription:
    """Validate filters and URL (SSRF guard), store the subscription with a fresh secret (sealed with `sealer`'s
    active key, if any); return both, the secret this once."""
    parsed = EventFilter.parse(spec.event_types, spec.sources, spec.domain_suffixes)
    await guard.check_url(spec.url)
    subscription_id = uuid.uuid4()
    secret = generate_secret()
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(
            """INSERT INTO delivery_subscriptions (id, url, description, event_types, sources, domain_suffixes,
                   enabled, max_concurrency, rate_limit_per_s, ordered)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
            subscription_id,
            spec.url,
            spec.description,
            spec.event_types,
            sorted(parsed.sources),
            list(parsed.domain_suffixes),
            spec.enabled,
            spec.max_concurrency,
            spec.rate_limit_per_s,
            spec.ordered,
        )
        await connection.execute(_INSERT_SECRET, subscription_id, *seal_secret(sealer, secret))
        await connection.execute("INSERT INTO delivery_endpoint_health (subscription_id) VALUES ($1)", subscription_id)
        row = await connection.fetchrow(_SELECT + " WHERE s.id = $1", subscription_id)
    assert row is not None  # inserted just above, in this transaction
    return CreatedSubscription(subscription=_subscription(row), secret=SecretStr(secret))


async def list_subscriptions(pool: asyncpg.Pool) -> list[Subscription]:
    """Every subscription, oldest first."""
    rows = await pool.fetch(_SELECT + " ORDER BY s.created_at, s.id")
    return [_subscription(row) for row in rows]


async def get_subscription(pool: asyncpg.Pool, subscription_id: uuid.UUID) -> Subscription:
    """One subscription; `SubscriptionNotFoundError` if there is none."""
    row = await pool.fetchrow(_SELECT + " WHERE s.id = $1", subscription_id)
    if row is None:
        raise SubscriptionNotFoundError(f"no subscription {subscription_id}")
    return _subscription(row)


async def rotate_secret(
    pool: asyncpg.Pool,
    subscription_id: uuid.UUID,
    overlap_s: float = DEFAULT_OVERLAP_S,
    sealer: RawSealer = NO_SEALING,
) -> RotatedSecret:
    """A new current secret; the previous current one keeps signing for `overlap_s` (both sign meanwhile)."""
    secret = generate_secret()
    async with pool.acquire() as connection, connection.transaction():
        found = await connection.fetchval(
            "SELECT 1 FROM delivery_subscriptions WHERE id = $1 FOR UPDATE", subscription_id
        )
        if found is None:
            raise SubscriptionNotFoundError(f"no subscription {subscription_id}")
        until: datetime = await connection.fetchval("SELECT now() + $1::interval", timedelta(seconds=overlap_s))
        # Only the current secret gets the overlap; one already expiring keeps its earlier end.
        await connection.execute(
            """UPDATE delivery_secrets SET expires_at = $2
               WHERE subscription_id = $1 AND (expires_at IS NULL OR expires_at > $2)""",
            subscription_id,
            until,
        )
        await connection.execute(_INSERT_SECRET, subscription_id, *seal_secret(sealer, secret))
        await connection.execute(
            "DELETE FROM delivery_secrets WHERE subscription_id = $1 AND expires_at < now()", subscription_id
        )
    return RotatedSecret(subscription_id=subscription_id, secret=SecretStr(secret), previous_valid_until=until)


async def set_enabled(
    pool: asyncpg.Pool, subscription_id: uuid.UUID, enabled: bool, reason: str | None = None
) -> Subscription:
    """Enable or disable by hand. Enabling clears the failure streak, so the endpoint gets a fresh start."""
    async with pool.acquire() as connection, connection.transaction():
        updated = await connection.fetchval(
            """UPDATE delivery_subscriptions SET enabled = $2, disabled_reason = $3, updated_at = now()
               WHERE id = $1 RETURNING id""",
            subscription_id,
            enabled,
            None if enabled else (reason or "disabled by an operator"),
        )
        if updated is None:
            raise SubscriptionNotFoundError(f"no subscription {subscription_id}")
        if enabled:
            await connection.execute(
                """UPDATE delivery_endpoint_health SET failing_since = NULL, consecutive_failures = 0,
                       paused_until = NULL WHERE subscription_id = $1""",
                subscription_id,
            )
    return await get_subscription(pool, subscription_id)
