"""Leader election on the real PostgreSQL: one holder per name, hand-over on release, loss detected."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from regpipe.leadership import AdvisoryLease, LeaseLostError, lease_key

pytestmark = pytest.mark.integration


def test_lease_keys_are_stable_and_distinct() -> None:
    assert lease_key("opensrs-poller:a") == lease_key("opensrs-poller:a")
    assert lease_key("opensrs-poller:a") != lease_key("opensrs-poller:b")


async def test_only_one_holder_and_the_standby_takes_over(pg_dsn: str) -> None:
    name = f"test:{uuid.uuid4()}"
    first = AdvisoryLease(pg_dsn, name, service="test", retry_interval_s=0.05)
    assert await first.acquire()
    stop = asyncio.Event()
    second = AdvisoryLease(pg_dsn, name, service="test", retry_interval_s=0.05, stop=stop)
    waiting = asyncio.create_task(second.acquire())
    await asyncio.sleep(0.5)
    assert not waiting.done()  # the name is taken
    await first.release()
    assert await asyncio.wait_for(waiting, timeout=5)
    await second.ensure_held()
    await second.release()


async def test_a_stopped_standby_gives_up_waiting(pg_dsn: str) -> None:
    name = f"test:{uuid.uuid4()}"
    holder = AdvisoryLease(pg_dsn, name, service="test")
    assert await holder.acquire()
    stop = asyncio.Event()
    standby = AdvisoryLease(pg_dsn, name, service="test", retry_interval_s=0.05, stop=stop)
    waiting = asyncio.create_task(standby.acquire())
    await asyncio.sleep(0.2)
    stop.set()
    assert await asyncio.wait_for(waiting, timeout=5) is False
    await holder.release()


async def test_a_killed_session_is_a_lost_lease_even_under_concurrent_checks(pg_dsn: str) -> None:
    name = f"test:{uuid.uuid4()}"
    lease = AdvisoryLease(pg_dsn, name, service="test")
    assert await lease.acquire()
    await asyncio.gather(*(lease.ensure_held() for _ in range(5)))  # concurrent checks share one connection
    admin = await asyncpg.connect(pg_dsn)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1",
            lease_key(name) & 0xFFFFFFFF,
        )
    finally:
        await admin.close()
    assert killed == 1
    with pytest.raises(LeaseLostError):
        await lease.ensure_held()
    assert not lease.held
    # A new holder can now take it.
    other = AdvisoryLease(pg_dsn, name, service="test", retry_interval_s=0.05)
    assert await asyncio.wait_for(other.acquire(), timeout=5)
    await other.release()
