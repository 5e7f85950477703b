"""The connection type the store's queries take (a plain connection or one borrowed from a pool), and the errors
that mean PostgreSQL is not there."""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from regpipe.pg.errors import CONNECTION_LOST

__all__ = ["CONNECTION_ERRORS", "Connection"]

Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy

#: What means "PostgreSQL is not there or the transaction did not commit": retry the same input later.
CONNECTION_ERRORS = CONNECTION_LOST
