"""A fresh, migrated database per test on the session's PostgreSQL server (the read model is global state)."""

from __future__ import annotations

import uuid

import asyncpg

from regpipe.pg.migrate import apply_migrations


async def fresh_database(server_dsn: str) -> str:
    """Create `aggregate_<random>` next to the session database, migrate it, return its DSN."""
    name = f"aggregate_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(server_dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    base, _, _ = server_dsn.rpartition("/")
    dsn = f"{base}/{name}"
    await apply_migrations(dsn)
    return dsn
