"""The connection type the store's queries take: a plain connection or one borrowed from a pool."""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

__all__ = ["Connection"]

Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy
