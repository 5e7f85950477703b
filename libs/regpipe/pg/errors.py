"""Exceptions of the `regpipe.pg` package (the tree is drawn in the package docstring)."""

from __future__ import annotations

import asyncpg

__all__ = ["CONNECTION_LOST", "MigrationError", "PgError"]

#: Everything that means "this connection can no longer answer": network errors, the server ending the session
#: (a restart, `pg_terminate_backend`), and asyncpg's own protocol-state errors after such an end (e.g.
#: "cannot switch to state 15; another operation is in progress").
CONNECTION_LOST = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
)


class PgError(Exception):
    """Base class: something this package could not do with PostgreSQL."""


class MigrationError(PgError):
    """A migration file is malformed or duplicated, or applying it failed (its transaction rolled back)."""
