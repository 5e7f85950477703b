"""A readiness probe of PostgreSQL for the aggregator: pinged in the background, read synchronously by `/readyz`."""

from __future__ import annotations

import asyncio

import asyncpg

from regpipe.aggregate.store import CONNECTION_ERRORS

__all__ = ["StoreProbe"]


class StoreProbe:
    """Pings PostgreSQL every `interval_s`; `error` is None while the last ping succeeded."""

    def __init__(self, pool: asyncpg.Pool, *, interval_s: float = 1.0, timeout_s: float = 2.0) -> None:
        self._pool = pool
        self._interval_s = interval_s
        self._timeout_s = timeout_s
        self.error: str | None = "PostgreSQL not checked yet"

    async def check(self) -> None:
        """Ping once and record the result."""
        try:
            await self._pool.fetchval("SELECT 1", timeout=self._timeout_s)
        except CONNECTION_ERRORS as exc:
            self.error = f"PostgreSQL unavailable: {type(exc).__name__}"
        else:
            self.error = None

    async def run(self, stop: asyncio.Event) -> None:
        """Ping until `stop`."""
        while not stop.is_set():
            await self.check()
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval_s)
            except TimeoutError:
                continue
