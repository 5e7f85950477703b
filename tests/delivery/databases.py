"""A fresh, migrated database per test on the session's PostgreSQL server (delivery tables are global state)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import asyncpg

from regpipe.pg.migrate import apply_migrations


async def fresh_database(server_dsn: str) -> str:
    """Create `delivery_<random>` next to the session database, migrate it, return its DSN."""
    name = f"delivery_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(server_dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    base, _, _ = server_dsn.rpartition("/")
    dsn = f"{base}/{name}"
    await apply_migrations(dsn)
    return dsn


async def wait_for(pool: asyncpg.Pool, query: str, *args: object, timeout_s: float = 60.0) -> object:
    """Poll `query` until it returns a truthy first value; return it (AssertionError at the deadline)."""
    deadline = time.monotonic() + timeout_s
    value: object = None
    while time.monotonic() < deadline:
        value = await pool.fetchval(query, *args)
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition never held: {query} (last value {value!r})")


async def eventually(check: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    """Poll `check` until it is true (AssertionError naming `what` at the deadline)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")
