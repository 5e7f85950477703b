"""The expiring lease on the real PostgreSQL: one holder per name, hand-over on release, and a lease that expires
like a ZooKeeper/etcd session: a standby takes over within the TTL whatever the holder does (frozen with SIGSTOP,
black-holed), and a holder that lost the lease stops before it acts again."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from regpipe.leadership import ExpiringLease, LeaseLostError, lease_key
from tests.leadership.blackhole import blackhole_proxy
from tests.leadership.lease_admin import take_over

pytestmark = pytest.mark.integration

_ROOT = Path(__file__).resolve().parents[2]


def _name() -> str:
    return f"test:{uuid.uuid4()}"


def test_lease_keys_are_stable_and_distinct() -> None:
    assert lease_key("opensrs-poller:a") == lease_key("opensrs-poller:a")
    assert lease_key("opensrs-poller:a") != lease_key("opensrs-poller:b")


async def test_only_one_holder_and_a_release_hands_over_at_once(pg_dsn: str) -> None:
    name = _name()
    first = ExpiringLease(pg_dsn, name, service="test", ttl_s=30, retry_interval_s=0.05)
    assert await first.acquire()
    stop = asyncio.Event()
    second = ExpiringLease(pg_dsn, name, service="test", ttl_s=30, retry_interval_s=0.05, stop=stop)
    waiting = asyncio.create_task(second.acquire())
    await asyncio.sleep(0.5)
    assert not waiting.done()  # the name is taken
    released_at = time.monotonic()
    await first.release()
    assert await asyncio.wait_for(waiting, timeout=5)
    assert time.monotonic() - released_at < 5  # the release expired the row: no waiting out the 30 s TTL
    await second.ensure_held()
    with pytest.raises(LeaseLostError):
        await first.ensure_held()
    await second.release()


async def test_a_stopped_standby_gives_up_waiting(pg_dsn: str) -> None:
    name = _name()
    holder = ExpiringLease(pg_dsn, name, service="test")
    assert await holder.acquire()
    stop = asyncio.Event()
    standby = ExpiringLease(pg_dsn, name, service="test", retry_interval_s=0.05, stop=stop)
    waiting = asyncio.create_task(standby.acquire())
    await asyncio.sleep(0.2)
    stop.set()
    assert await asyncio.wait_for(waiting, timeout=5) is False
    await holder.release()


async def test_a_lease_taken_over_in_the_database_is_lost_at_the_next_renewal(pg_dsn: str) -> None:
    name = _name()
    lease = ExpiringLease(pg_dsn, name, service="test", ttl_s=1.5)
    assert await lease.acquire()
    await take_over(pg_dsn, name)  # e.g. a database restored or restarted under the holder, then taken
    async with asyncio.timeout(10):
        while lease.held:  # noqa: ASYNC110 -- the renewal has no event to await
            await asyncio.sleep(0.05)
    with pytest.raises(LeaseLostError):
        await lease.ensure_held()
    await lease.release()  # releasing a lease someone else holds leaves their row alone
    standby = ExpiringLease(pg_dsn, name, service="test", retry_interval_s=0.05, stop=asyncio.Event())
    waiting = asyncio.create_task(standby.acquire())
    await asyncio.sleep(0.5)
    assert not waiting.done()  # still the other holder's
    waiting.cancel()


async def test_a_killed_database_session_is_not_a_lost_lease(pg_dsn: str) -> None:
    # Like an etcd session, the lease outlives a broken connection as long as it is renewed in time.
    name = _name()
    lease = ExpiringLease(pg_dsn, name, service="test", ttl_s=3)
    assert await lease.acquire()
    admin = await asyncpg.connect(pg_dsn)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE pid <> pg_backend_pid() AND query LIKE '%regpipe_leases%' AND datname = current_database()"
        )
    finally:
        await admin.close()
    assert killed >= 1
    await asyncio.sleep(3 * 1.2)  # beyond one TTL: it was renewed over a new connection meanwhile
    await lease.ensure_held()
    await lease.release()


async def test_a_frozen_holder_is_replaced_within_its_ttl_and_stops_before_acting_again(pg_dsn: str) -> None:
    name, ttl_s = _name(), 3.0
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.leadership.lease_holder",
        pg_dsn,
        name,
        str(ttl_s),
        cwd=_ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert holder.stdout is not None
    lines: list[str] = []

    async def read() -> None:
        assert holder.stdout is not None
        while line := await holder.stdout.readline():
            lines.append(line.decode().strip())

    reader = asyncio.create_task(read())
    standby = ExpiringLease(pg_dsn, name, service="test", ttl_s=ttl_s, retry_interval_s=0.1)
    try:
        async with asyncio.timeout(30):
            while sum(line.startswith("act ") for line in lines) < 3:  # noqa: ASYNC110 -- output, not an event
                await asyncio.sleep(0.02)
        os.kill(holder.pid, signal.SIGSTOP)  # a paused container, a VM stopped, an event loop blocked
        frozen_at = time.monotonic()
        assert await asyncio.wait_for(standby.acquire(), timeout=ttl_s * 4)
        takeover_s = time.monotonic() - frozen_at

        resumed_at = time.monotonic()
        os.kill(holder.pid, signal.SIGCONT)
        async with asyncio.timeout(30):
            while "lost" not in lines:  # noqa: ASYNC110 -- output, not an event
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)  # it stands by now; an act would show up within a few of its 20 ms cycles
        await standby.ensure_held()  # nobody took it back
    finally:
        if holder.returncode is None:
            os.kill(holder.pid, signal.SIGCONT)
            holder.terminate()
        await asyncio.wait_for(holder.wait(), timeout=30)
        await asyncio.wait_for(reader, timeout=5)
        await standby.release()
    assert takeover_s <= ttl_s + 3.0, f"the standby took {takeover_s:.1f} s (TTL {ttl_s} s)"
    acted = [float(line.split()[1]) for line in lines if line.startswith("act ")]
    assert acted
    assert max(acted) < resumed_at, "the woken holder acted after it lost its lease"
    assert lines.count("acquired") == 1


async def test_a_black_holed_holder_stops_before_a_standby_takes_over(pg_dsn: str) -> None:
    name, ttl_s = _name(), 2.0
    server = urlsplit(pg_dsn)
    assert server.hostname is not None
    assert server.port is not None
    async with blackhole_proxy(server.hostname, server.port) as proxy:
        netloc = f"{server.username}:{server.password}@127.0.0.1:{proxy.port}"
        through_proxy = urlunsplit(server._replace(netloc=netloc))
        holder = ExpiringLease(through_proxy, name, service="test", ttl_s=ttl_s)
        assert await holder.acquire()
        proxy.black_hole()  # the holder's connection stays open but nothing answers, as in a partition
        lost_at: float | None = None

        async def watch_holder() -> None:
            nonlocal lost_at
            while lost_at is None:
                try:
                    await holder.ensure_held()
                except LeaseLostError:
                    lost_at = time.monotonic()
                await asyncio.sleep(0.01)

        watcher = asyncio.create_task(watch_holder())
        started = time.monotonic()
        standby = ExpiringLease(pg_dsn, name, service="test", ttl_s=ttl_s, retry_interval_s=0.05)
        assert await asyncio.wait_for(standby.acquire(), timeout=ttl_s * 4)
        taken_at = time.monotonic()
        await asyncio.wait_for(watcher, timeout=5)
        await standby.release()
        holder_release = asyncio.create_task(holder.release())  # its connection hangs: bounded by its timeouts
    assert lost_at is not None
    assert lost_at < taken_at, "the black-holed holder still believed it led when the standby took over"
    assert taken_at - started <= ttl_s + 3.0  # bounded by the TTL (slack for a loaded machine)
    await asyncio.wait_for(holder_release, timeout=15)
