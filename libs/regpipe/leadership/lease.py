"""Leader election for pollers and the IMAP parser: a lease row per name in PostgreSQL that expires unless its
holder renews it, like a ZooKeeper or etcd session.

A holder renews every `ttl_s / 3`; a standby takes the row once it expired (PostgreSQL's clock decides, so replicas'
clocks do not matter), which bounds a take-over by `ttl_s + retry_interval_s` whatever the holder does: killed,
frozen (SIGSTOP, a paused VM, a blocked event loop) or cut off from the database. Each acquisition bumps the row's
fencing token, and a renewal succeeds only for the holder *and* token it was granted to, so a holder that lost the
row (after a freeze, a partition or a database restart) can never renew it back.

`ensure_held()` is a local check, cheap enough to run before every poll and every acknowledgement: the lease counts
as held only until `ttl_s` (less a safety margin) after the start of the last renewal that succeeded. A holder
that wakes up from a freeze therefore finds its lease lost before it does anything else, and stops. A graceful
release expires the row at once, so a standby takes over within one retry interval. Design notes:
`docs/leadership.md`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
import uuid
from types import TracebackType

import asyncpg

from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import LEADER
from regpipe.pg.errors import CONNECTION_LOST

__all__ = ["DEFAULT_TTL_S", "AdvisoryLease", "ExpiringLease", "LeaseLostError", "lease_key"]

_log = get_logger(__name__)

#: Bound on a take-over when the holder stops renewing (plus one retry interval of the standby).
DEFAULT_TTL_S = 15.0

# The holder acts only until this share of the TTL after a renewal began: the database's expiry is measured from
# a later instant, and the margin absorbs clock-rate differences between the holder and the database.
_SAFE_SHARE = 0.9

_CONNECTION_LOST = CONNECTION_LOST

_SCHEMA = """
CREATE TABLE IF NOT EXISTS regpipe_leases (
    name text PRIMARY KEY,
    holder text NOT NULL,
    token bigint NOT NULL,
    expires_at timestamptz NOT NULL
)"""

# Taken when free, expired, or already ours; every acquisition bumps the fencing token.
_ACQUIRE = """
INSERT INTO regpipe_leases AS lease (name, holder, token, expires_at)
VALUES ($1, $2, 1, clock_timestamp() + make_interval(secs => $3))
ON CONFLICT (name) DO UPDATE
    SET holder = EXCLUDED.holder, token = lease.token + 1, expires_at = EXCLUDED.expires_at
    WHERE lease.expires_at <= clock_timestamp() OR lease.holder = EXCLUDED.holder
RETURNING token"""

_RENEW = """
UPDATE regpipe_leases SET expires_at = clock_timestamp() + make_interval(secs => $4)
WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > clock_timestamp()
RETURNING token"""

_RELEASE = """
UPDATE regpipe_leases SET expires_at = clock_timestamp()
WHERE name = $1 AND holder = $2 AND token = $3"""


class LeaseLostError(Exception):
    """The lease is no longer held (expired, taken over, or never renewed): the holder must stop acting as leader."""


def lease_key(name: str) -> int:
    """A stable signed 64-bit number for a lease name (for logs and external tools)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


class ExpiringLease:
    """`async with ExpiringLease(dsn, "opensrs-poller:reseller1", service=...)`: leader inside, released on exit."""

    def __init__(
        self,
        dsn: str,
        name: str,
        *,
        service: str,
        ttl_s: float = DEFAULT_TTL_S,
        retry_interval_s: float = 1.0,
        stop: asyncio.Event | None = None,
    ) -> None:
        if ttl_s <= 0 or retry_interval_s <= 0:
            raise ValueError("ttl_s and retry_interval_s must be positive")
        self._dsn = dsn
        self._name = name
        self._service = service
        self._ttl_s = ttl_s
        self._retry_interval_s = retry_interval_s
        self._stop = stop or asyncio.Event()
        # Unique per lease object: a restarted process is a new holder, and so is a second lease in one process.
        self._holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._conn: asyncpg.Connection | None = None
        self._token: int | None = None
        self._valid_until = 0.0  # monotonic; the lease is ours only before this
        self._lost: str | None = None
        self._renewer: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        """The lease name (service and account)."""
        return self._name

    @property
    def holder(self) -> str:
        """Who this lease object is to the database."""
        return self._holder

    @property
    def held(self) -> bool:
        """True while the lease is held as far as this process can tell (what `ensure_held` checks)."""
        return self._token is not None and self._lost is None and _now() < self._valid_until

    async def acquire(self) -> bool:
        """Wait until the lease is held (True) or the stop event is set (False)."""
        while not self._stop.is_set():
            started = _now()
            try:
                conn = await self._connection()
                token = await conn.fetchval(_ACQUIRE, self._name, self._holder, self._ttl_s, timeout=self._ttl_s / 3)
            except _CONNECTION_LOST as exc:
                _log.warning("lease acquire failed, retrying", lease=self._name, error=str(exc))
                await self._drop_connection()
                token = None
            if token is not None:
                self._token = int(token)
                self._valid_until = started + self._ttl_s * _SAFE_SHARE
                self._lost = None
                self._renewer = asyncio.create_task(self._renew_forever(), name=f"lease-{self._name}")
                LEADER.labels(self._service, self._name).set(1)
                _log.info("lease acquired", lease=self._name, token=self._token, ttl_s=self._ttl_s)
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self._retry_interval_s)
        return False

    async def ensure_held(self) -> None:
        """Raise `LeaseLostError` unless the lease is still ours; local, so it can guard every poll and ACK."""
        if self._token is None:
            raise LeaseLostError(f"lease {self._name} is not held")
        if self._lost is not None:
            raise LeaseLostError(f"lease {self._name} lost: {self._lost}")
        if _now() >= self._valid_until:
            self._lose("not renewed within its time to live")
            raise LeaseLostError(f"lease {self._name} lost: not renewed within its time to live")

    async def release(self) -> None:
        """Give the lease up: the row expires at once, so a standby takes over within one retry interval."""
        renewer, self._renewer = self._renewer, None
        if renewer is not None:
            renewer.cancel()
            await asyncio.wait({renewer})
        token, self._token = self._token, None
        LEADER.labels(self._service, self._name).set(0)
        if token is not None and self._conn is not None and not self._conn.is_closed():
            try:
                await self._conn.execute(_RELEASE, self._name, self._holder, token, timeout=5)
            except _CONNECTION_LOST as exc:
                _log.warning("lease release failed; it expires by itself", lease=self._name, error=str(exc))
        await self._drop_connection()

    async def _renew_forever(self) -> None:
        """Renew every third of the TTL; on a refusal the lease is lost, on a failure retry until it expires."""
        while self._token is not None and self._lost is None:
            await asyncio.sleep(self._ttl_s / 3)
            started = _now()
            remaining = self._valid_until - started
            if remaining <= 0:
                self._lose("not renewed within its time to live")
                return
            try:
                conn = await self._connection(within_s=remaining)
                renewed = await conn.fetchval(
                    _RENEW, self._name, self._holder, self._token, self._ttl_s, timeout=remaining
                )
            except _CONNECTION_LOST as exc:
                _log.warning("lease renewal failed; retrying while it lasts", lease=self._name, error=str(exc))
                await self._drop_connection()
                continue
            if renewed is None:
                self._lose("taken over or expired in the database")
                return
            self._valid_until = started + self._ttl_s * _SAFE_SHARE

    def _lose(self, reason: str) -> None:
        if self._lost is None:
            self._lost = reason
            LEADER.labels(self._service, self._name).set(0)
            _log.warning("lease lost", lease=self._name, reason=reason)

    async def _connection(self, within_s: float = 10.0) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(self._dsn, timeout=within_s)
            # Another replica may create the table at the same instant; a role without CREATE relies on the table
            # having been created beforehand (docs/leadership.md), and then fails at the first lease query if not.
            with contextlib.suppress(
                asyncpg.UniqueViolationError, asyncpg.DuplicateTableError, asyncpg.InsufficientPrivilegeError
            ):
                await self._conn.execute(_SCHEMA, timeout=within_s)
        return self._conn

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), timeout=5)
            except _CONNECTION_LOST as exc:
                _log.warning("lease connection close failed; terminating", lease=self._name, error=str(exc))
                conn.terminate()

    async def __aenter__(self) -> ExpiringLease:
        await self.acquire()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.release()


#: The former name (the lease was a session advisory lock until it had to expire); kept while callers move over.
AdvisoryLease = ExpiringLease


def _now() -> float:
    # CLOCK_MONOTONIC keeps running while the process is stopped, which is what makes a frozen holder's lease
    # look expired to itself the moment it wakes up.
    return asyncio.get_running_loop().time()
