"""Apply the SQL files in `migrations/` in order, once each, recording them in `schema_migrations`.

Files are named `NNNN_description.sql`; each runs in its own transaction together with the row
that records it, so a failed file leaves nothing behind. A session-level advisory lock makes
concurrent runners (two services starting at once) apply each file exactly once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from regpipe.pg.errors import MigrationError

__all__ = ["Migration", "apply_migrations", "list_migrations"]

_FILE_NAME = re.compile(r"^(?P<number>\d{4})_[a-z0-9_]+\.sql$")
# An arbitrary constant shared by every runner of this schema ("regpipe" in ASCII, as an int8).
_LOCK_KEY = 0x7265677069706500


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file: `version` is the file name without `.sql` (e.g. `0001_init`)."""

    version: str
    sql: str


def list_migrations() -> list[Migration]:
    """The packaged migrations in apply order; raise `MigrationError` on bad or clashing names."""
    folder = resources.files("regpipe.pg").joinpath("migrations")
    migrations: list[Migration] = []
    numbers: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise MigrationError(f"migration file name {entry.name!r} does not match NNNN_description.sql")
        number = match.group("number")
        if number in numbers:
            # Two branches both added the same number: renumber one instead of guessing an order.
            raise MigrationError(f"migrations {numbers[number]!r} and {entry.name!r} share number {number}")
        numbers[number] = entry.name
        migrations.append(Migration(version=entry.name.removesuffix(".sql"), sql=entry.read_text()))
    return migrations


async def apply_migrations(dsn: str) -> list[str]:
    """Apply every migration not yet recorded; return the versions applied now (empty if none).

    Idempotent and safe to run from several processes at once.
    """
    migrations = list_migrations()
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            return await _apply_pending(connection, migrations)
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    finally:
        await connection.close()


async def _apply_pending(connection: asyncpg.Connection, migrations: list[Migration]) -> list[str]:
    # Read under the lock: another runner may have applied files while we waited for it.
    table_exists = await connection.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    applied: set[str] = set()
    if table_exists:
        rows = await connection.fetch("SELECT version FROM schema_migrations")
        applied = {row["version"] for row in rows}
    done: list[str] = []
    for migration in migrations:
        if migration.version in applied:
            continue
        try:
            async with connection.transaction():
                await connection.execute(migration.sql)
                await connection.execute("INSERT INTO schema_migrations (version) VALUES ($1)", migration.version)
        except asyncpg.PostgresError as error:
            raise MigrationError(f"migration {migration.version} failed: {error}") from error
        done.append(migration.version)
    return done
