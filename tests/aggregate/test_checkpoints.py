"""Expiry checkpoints with a controlled clock on real PostgreSQL: nothing at 31 days; 30, 7, 6, ..., 1 each once; a
renewal re-arms; three days of downtime are caught up; Most domains get none from the pipeline; one scheduler at a
time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson
import pytest

from regpipe.aggregate.checkpoints import due_checkpoints
from regpipe.aggregate.scheduler import Scheduler, SchedulerConfig
from regpipe.aggregate.store import apply_events
from regpipe.contract import EventType, Source
from regpipe.leadership import ExpiringLease, LeaderState
from tests.aggregate.databases import fresh_database
from tests.aggregate.events import domain_event

pytestmark = pytest.mark.integration

EXPIRY = datetime(2027, 3, 1, 12, tzinfo=UTC)
RENEWED = EXPIRY + timedelta(days=365)


class FakeClock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def dsn(pg_dsn: str) -> str:
    return await fresh_database(pg_dsn)


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    created = await asyncpg.create_pool(dsn, min_size=1, max_size=6)
    yield created
    await created.close()


async def _outbox(pool: asyncpg.Pool) -> list[tuple[str, int, str]]:
    """(domain, checkpoint, expires_at) of every checkpoint event in the outbox, in order."""
    rows = await pool.fetch("SELECT value FROM agg_outbox ORDER BY seq")
    out = []
    for row in rows:
        data = orjson.loads(row["value"])
        out.append((data["domain"], data["checkpoint"], data["expires_at"]))
    return out


def test_due_checkpoints_rule() -> None:
    assert due_checkpoints(EXPIRY, EXPIRY - timedelta(days=31)) == []
    assert [c for c, _ in due_checkpoints(EXPIRY, EXPIRY - timedelta(days=30))] == [30]
    assert [c for c, _ in due_checkpoints(EXPIRY, EXPIRY - timedelta(days=4, hours=1))] == [30, 7, 6, 5]
    assert due_checkpoints(EXPIRY, EXPIRY) == []


async def test_checkpoints_fire_once_each_rearm_on_renewal_and_catch_up_after_downtime(pool: asyncpg.Pool) -> None:
    await apply_events(
        pool,
        [
            domain_event("r", Source.OPUSDNS, EventType.DOMAIN_RENEWED, "kept.example", minute=1, expires_at=EXPIRY),
            domain_event("m", Source.MOST, EventType.DOMAIN_RENEWED, "most.example", minute=1, expires_at=EXPIRY),
        ],
        now=EXPIRY - timedelta(days=40),
    )
    clock = FakeClock(EXPIRY - timedelta(days=31))
    scheduler = Scheduler(pool, clock, SchedulerConfig(), lease=None)

    async def scan_at(when: datetime) -> list[int]:
        clock.now = when
        before = len(await _outbox(pool))
        await scheduler.scan_once()
        return [checkpoint for _, checkpoint, _ in (await _outbox(pool))[before:]]

    assert await scan_at(EXPIRY - timedelta(days=31)) == []
    assert await scan_at(EXPIRY - timedelta(days=30)) == [30]
    assert await scan_at(EXPIRY - timedelta(days=29)) == []
    for days in (7, 6, 5, 4, 3, 2, 1):
        assert await scan_at(EXPIRY - timedelta(days=days)) == [days]
        assert await scan_at(EXPIRY - timedelta(days=days, hours=-6)) == []
    assert await scan_at(EXPIRY) == []

    # a renewal moves the expiry date: a new period, armed again
    await apply_events(
        pool,
        [domain_event("r2", Source.OPUSDNS, EventType.DOMAIN_RENEWED, "kept.example", minute=2, expires_at=RENEWED)],
        now=EXPIRY,
    )
    assert await scan_at(RENEWED - timedelta(days=30)) == [30]
    assert await scan_at(RENEWED - timedelta(days=7)) == [7]
    # three days of downtime: the first scan afterwards catches up 6, 5 and 4
    assert sorted(await scan_at(RENEWED - timedelta(days=4))) == [4, 5, 6]
    for days in (3, 2, 1):
        assert await scan_at(RENEWED - timedelta(days=days)) == [days]

    produced = await _outbox(pool)
    assert {domain for domain, _, _ in produced} == {"kept.example"}  # Most sends its own: none for most.example
    assert len(produced) == len(set(produced)) == 16  # each (domain, period, checkpoint) once


async def test_one_scheduler_at_a_time(pool: asyncpg.Pool, dsn: str) -> None:
    await apply_events(
        pool,
        [domain_event("r", Source.OPENSRS, EventType.DOMAIN_REGISTERED, "one.example", minute=1, expires_at=EXPIRY)],
        now=EXPIRY - timedelta(days=40),
    )
    clock = FakeClock(EXPIRY - timedelta(days=1))
    stop = asyncio.Event()
    config = SchedulerConfig(interval_s=0.05, lease_check_interval_s=0.2)
    schedulers = [
        Scheduler(
            pool,
            clock,
            config,
            lease=ExpiringLease(dsn, "test-scheduler", service="t", ttl_s=3, retry_interval_s=0.1, stop=stop),
        )
        for _ in range(2)
    ]
    runs = [asyncio.create_task(s.run(stop)) for s in schedulers]
    deadline = time.monotonic() + 30
    while sum(s.scans for s in schedulers) < 20:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*runs)
    assert sorted(s.scans > 0 for s in schedulers) == [False, True]
    assert LeaderState.STOPPED in {s.state for s in schedulers}
    assert sorted(c for _, c, _ in await _outbox(pool)) == [1, 2, 3, 4, 5, 6, 7, 30]
