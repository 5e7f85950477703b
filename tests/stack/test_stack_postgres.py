"""The throwaway PostgreSQL answers queries and the migration runner is idempotent and race-free."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from regpipe.pg.migrate import apply_migrations, list_migrations
from regpipe.stack.postgres import PostgresServer

pytestmark = pytest.mark.integration


async def test_query_runs_against_the_regpipe_database(pg_dsn: str) -> None:
    connection = await asyncpg.connect(pg_dsn)
    try:
        database = await connection.fetchval("SELECT current_database()")
        answer = await connection.fetchval("SELECT 40 + $1::int", 2)
    finally:
        await connection.close()

    assert (database, answer) == ("regpipe", 42)


async def test_migrations_are_recorded_and_reapplying_is_a_no_op(pg_dsn: str) -> None:
    assert await apply_migrations(pg_dsn) == []

    connection = await asyncpg.connect(pg_dsn)
    try:
        rows = await connection.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await connection.close()
    assert [row["version"] for row in rows] == [m.version for m in list_migrations()]


async def test_concurrent_runners_apply_each_migration_once(pg_server: PostgresServer) -> None:
    connection = await asyncpg.connect(pg_server.admin_dsn)
    try:
        await connection.execute("CREATE DATABASE migrate_race")
    finally:
        await connection.close()
    dsn = pg_server.dsn.rsplit("/", 1)[0] + "/migrate_race"

    results = await asyncio.gather(*(apply_migrations(dsn) for _ in range(4)))

    applied = [version for result in results for version in result]
    assert sorted(applied) == [m.version for m in list_migrations()]


def test_migration_files_are_numbered_and_start_with_the_bookkeeping_table() -> None:
    migrations = list_migrations()

    assert migrations[0].version == "0001_init"
    assert "schema_migrations" in migrations[0].sql
    assert [m.version for m in migrations] == sorted(m.version for m in migrations)
