"""Leader election for pollers and the IMAP parser: a PostgreSQL session-level advisory lock per account.

Exactly one replica holds the lock for a given name; when its process dies its connection closes and the lock is
released, so a waiting replica takes over within one retry interval. A holder that loses its connection stops
being leader (it must stop polling), which is checked on every `ensure_held()`.
"""

from __future__ import annotations

import asyncio
import hashlib
from types import TracebackType

import asyncpg

from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import LEADER

__all__ = ["AdvisoryLease", "LeaseLostError", "lease_key"]

_log = get_logger(__name__)

# Everything that means "this connection can no longer vouch for the lock": network errors, the server ending the
# session (pg_terminate_backend, restart), and asyncpg's own protocol-state errors after such an end.
_CONNECTION_LOST = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
)


class LeaseLostError(Exception):
    """The lease is no longer held (connection lost): the holder must stop acting as leader."""


def lease_key(name: str) -> int:
    """The signed 64-bit advisory-lock key of a lease name (stable across processes and versions)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


class AdvisoryLease:
    """`async with AdvisoryLease(dsn, "opensrs-poller:reseller1")`: waits until leader, releases on exit."""

    def __init__(
        self,
        dsn: str,
        name: str,
        *,
        service: str,
        retry_interval_s: float = 1.0,
        stop: asyncio.Event | None = None,
    ) -> None:
        self._dsn = dsn
        self._name = name
        self._key = lease_key(name)
        self._service = service
        self._retry_interval_s = retry_interval_s
        self._stop = stop or asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        # One connection serves every check: asyncpg refuses two concurrent queries on it.
        self._check_lock = asyncio.Lock()

    @property
    def name(self) -> str:
        """The lease name (service and account)."""
        return self._name

    @property
    def held(self) -> bool:
        """True while this process believes it holds the lease (see `ensure_held` for a live check)."""
        return self._conn is not None and not self._conn.is_closed()

    async def acquire(self) -> bool:
        """Wait until the lease is held (True) or the stop event is set (False)."""
        while not self._stop.is_set():
            try:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await asyncpg.connect(self._dsn, timeout=10)
                got = await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", self._key, timeout=10)
            except _CONNECTION_LOST as exc:
                _log.warning("lease acquire failed, retrying", lease=self._name, error=str(exc))
                await self._drop_connection()
                got = False
            if got:
                LEADER.labels(self._service, self._name).set(1)
                _log.info("lease acquired", lease=self._name)
                return True
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self._retry_interval_s)
            except TimeoutError:
                continue
        return False

    async def ensure_held(self) -> None:
        """Raise `LeaseLostError` unless the lease's connection is still alive."""
        async with self._check_lock:
            conn = self._conn
            if conn is None or conn.is_closed():
                raise LeaseLostError(f"lease {self._name} is not held")
            try:
                await conn.fetchval("SELECT 1", timeout=5)
            except _CONNECTION_LOST as exc:
                await self._drop_connection()
                raise LeaseLostError(f"lease {self._name} lost: {exc}") from exc

    async def release(self) -> None:
        """Give the lease up (closing the connection releases the session lock)."""
        await self._drop_connection()

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        LEADER.labels(self._service, self._name).set(0)
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), timeout=5)
            except _CONNECTION_LOST as exc:
                _log.warning("lease connection close failed; terminating", lease=self._name, error=str(exc))
                conn.terminate()

    async def __aenter__(self) -> AdvisoryLease:
        await self.acquire()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.release()
