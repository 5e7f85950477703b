"""The store on real PostgreSQL: tables equal the pure fold; re-applying changes nothing; settling and checkpoints
write each aggregate event to the outbox once."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson
import pytest

from regpipe.aggregate.fold import fold
from regpipe.aggregate.store import apply_events, produce_due_checkpoints, settle_quiet_orders
from regpipe.contract import EventType, Outcome, Source
from tests.aggregate.databases import fresh_database
from tests.aggregate.events import batch_event, domain_event, order_event
from tests.aggregate.snapshot import assert_same_model, snapshot
from tests.aggregate.world import world_events

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
async def dsn(pg_dsn: str) -> str:
    return await fresh_database(pg_dsn)


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    created = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
    yield created
    await created.close()


async def test_tables_equal_the_fold_whatever_the_order_and_duplicates(pool: asyncpg.Pool, dsn: str) -> None:
    events = world_events(domains=60, seed=3)
    shuffled = [*events, *random.Random(1).sample(events, len(events) // 3)]
    random.Random(2).shuffle(shuffled)
    applied = 0
    for start in range(0, len(shuffled), 97):
        result = await apply_events(pool, shuffled[start : start + 97], now=NOW)
        applied += result.applied
    assert applied == len(events)
    assert_same_model(await snapshot(dsn), fold(events))
    again = await apply_events(pool, events[:200], now=NOW)
    assert (again.applied, again.duplicates) == (0, 200)


async def test_a_batch_with_its_orders_is_readable_in_columns(pool: asyncpg.Pool) -> None:
    await apply_events(
        pool,
        [
            batch_event(
                "s2",
                EventType.ORDER_BATCH_COMPLETED,
                "BX",
                [("o1", "a.com", "COMPLETED"), ("o2", "b.com", "FAILED")],
                minute=20,
            ),
            order_event("p1", "BX", "o1", "a.com", "SETTING_NS", minute=15),
        ],
        now=NOW,
    )
    async with pool.acquire() as conn:
        batch = await conn.fetchrow("SELECT * FROM agg_order_batches WHERE batch_id = 'BX'")
        orders = await conn.fetch("SELECT order_id, status FROM agg_orders WHERE batch_id = 'BX' ORDER BY order_id")
    assert batch is not None
    assert batch["status"] == "completed"
    assert [tuple(r) for r in orders] == [("o1", "COMPLETED"), ("o2", "FAILED")]


async def test_a_quiet_coldmail_order_settles_once(pool: asyncpg.Pool) -> None:
    await apply_events(
        pool,
        [
            domain_event("c1", Source.COLDMAIL, EventType.DOMAIN_REGISTERED, "x.com", minute=1, order_id="CM9"),
            domain_event(
                "c2",
                Source.COLDMAIL,
                EventType.DOMAIN_REGISTRATION_FAILED,
                "y.com",
                minute=2,
                order_id="CM9",
                outcome=Outcome.FAILURE,
            ),
        ],
        now=NOW,
    )
    assert await settle_quiet_orders(pool, now=NOW + timedelta(seconds=59), quiet_s=60) == 0
    assert await settle_quiet_orders(pool, now=NOW + timedelta(seconds=60), quiet_s=60) == 1
    assert await settle_quiet_orders(pool, now=NOW + timedelta(hours=1), quiet_s=60) == 0
    async with pool.acquire() as conn:
        outbox = await conn.fetch("SELECT headers FROM agg_outbox")
    assert len(outbox) == 1
    assert ["ce_type", "order.settled"] in orjson.loads(outbox[0]["headers"])


async def test_checkpoints_are_produced_once_per_period_and_never_for_most(pool: asyncpg.Pool) -> None:
    expiry = NOW + timedelta(days=10)
    await apply_events(
        pool,
        [
            domain_event("o", Source.OPENSRS, EventType.DOMAIN_REGISTERED, "o.com", minute=1, expires_at=expiry),
            domain_event("m", Source.MOST, EventType.DOMAIN_RENEWED, "m.com", minute=1, expires_at=expiry),
        ],
        now=NOW,
    )
    first = await produce_due_checkpoints(pool, now=NOW)
    assert [(e.subject, e.data.checkpoint) for e in first] == [("o.com", 30)]  # type: ignore[attr-defined]
    assert await produce_due_checkpoints(pool, now=NOW) == []
