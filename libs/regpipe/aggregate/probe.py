"""Readiness probe of PostgreSQL for the aggregator (pinged in the background, read synchronously by `/readyz`),
and the read model's row counts as a gauge (what the run command's live view shows)."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from regpipe.aggregate.read import read_model_counts
from regpipe.aggregate.store import CONNECTION_ERRORS
from regpipe.observability.metrics import AGGREGATOR_READ_MODEL_ROWS

__all__ = ["StoreProbe"]


class StoreProbe:
    """Pings PostgreSQL every `interval_s` (`error` is None while the last ping succeeded) and refreshes the row
    counts every `count_interval_s`."""

    def __init__(
        self, pool: asyncpg.Pool, *, interval_s: float = 1.0, timeout_s: float = 2.0, count_interval_s: float = 5.0
    ) -> None:
        self._pool = pool
        self._interval_s = interval_s
        self._timeout_s = timeout_s
        self._count_interval_s = count_interval_s
        self._counted_at = 0.0
        self.error: str | None = "PostgreSQL not checked yet"

    async def check(self) -> None:
        """Ping once and record the result; refresh the row counts when due."""
        try:
            await self._pool.fetchval("SELECT 1", timeout=self._timeout_s)
            if time.monotonic() - self._counted_at >= self._count_interval_s:
                for table, rows in (await read_model_counts(self._pool)).items():
                    AGGREGATOR_READ_MODEL_ROWS.labels(table).set(rows)
                self._counted_at = time.monotonic()
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
