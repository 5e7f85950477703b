"""Keeps one mailbox read for as long as the process runs: leader election, reconnecting, shutting down.

Only the holder of the mailbox's advisory lease reads it; the lease is checked every few seconds and before each
batch, and reading stops at once when it is lost (the replica then waits to become leader again). Connections
that cannot be made are retried with capped exponential backoff and jitter; a session that breaks is reopened
after a short pause. Wrong credentials or settings end `run` with the error: retrying cannot fix them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

import stamina

from regpipe.imap.config import ImapConfig
from regpipe.imap.connection import ImapConnection
from regpipe.imap.errors import ImapCommandError, ImapConnectionError
from regpipe.imap.ingestor import MailboxIngestor
from regpipe.kafka.errors import PublishError
from regpipe.leadership.lease import AdvisoryLease, LeaseLostError
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import IMAP_SESSION_ERRORS

__all__ = ["MailboxSupervisor", "ReaderState", "ReconnectPolicy", "lease_name"]

_log = get_logger(__name__)

#: Opens a logged-in connection (replaceable so tests can count or delay connections).
Opener = Callable[[ImapConfig], Awaitable[ImapConnection]]


def lease_name(config: ImapConfig) -> str:
    """The advisory lease that lets one replica read this mailbox: `imap-parser:<user>@<host>`."""
    return f"imap-parser:{config.account}"


class ReaderState(StrEnum):
    """Where the supervisor is in its life (readiness: anything but STARTING)."""

    STARTING = "starting"
    WAITING_FOR_LEASE = "waiting_for_lease"
    CONNECTING = "connecting"
    READING = "reading"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """How hard to retry, how often to check the lease, how long a stop may take."""

    backoff_initial_s: float = 0.5
    backoff_max_s: float = 60.0
    backoff_jitter_s: float = 1.0
    pause_after_session_s: float = 1.0  # after a session broke; doubles while sessions keep breaking at once
    lease_check_interval_s: float = 2.0
    shutdown_grace_s: float = 5.0  # time the in-flight batch gets to finish (publish + move) on stop


class MailboxSupervisor:
    """Reads one mailbox through `ingestor` while holding `lease` (None: no election, e.g. a single replica)."""

    def __init__(
        self,
        imap: ImapConfig,
        ingestor: MailboxIngestor,
        *,
        lease: AdvisoryLease | None,
        reconnect: ReconnectPolicy | None = None,
        opener: Opener = ImapConnection.open,
    ) -> None:
        self._imap = imap
        self._ingestor = ingestor
        self._lease = lease
        self._reconnect = reconnect or ReconnectPolicy()
        self._open = opener
        self._state = ReaderState.STARTING
        self._rng = random.Random()  # noqa: S311 -- backoff jitter, not a secret
        # The watcher and the per-batch guard share the lease's one database connection: one query at a time.
        self._lease_check = asyncio.Lock()

    @property
    def state(self) -> ReaderState:
        """The current state."""
        return self._state

    async def run(self, stop: asyncio.Event) -> None:
        """Read until `stop` is set; the batch in flight gets `shutdown_grace_s`, then is abandoned.

        Abandoning is safe at any point: a message is moved only after its record is on Kafka, so an unmoved one
        is read and published again next time. Raises `ImapAuthError` / `ImapConfigError` when retrying is futile.
        """
        main = asyncio.create_task(self._lead_forever(stop), name=f"imap-{self._imap.account}")
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({main, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not main.done():
                await asyncio.wait({main}, timeout=self._reconnect.shutdown_grace_s)
            if not main.done():
                _log.warning("imap reader abandons its in-flight batch to stop", account=self._imap.account)
                main.cancel()
                await asyncio.wait({main})
            if not main.cancelled():
                main.result()
        finally:
            stopping.cancel()
            if not main.done():  # run() itself was cancelled
                main.cancel()
                await asyncio.wait({main})
            self._state = ReaderState.STOPPED

    async def _lead_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._state = ReaderState.WAITING_FOR_LEASE
            if self._lease is None:
                await self._sessions(stop)
                return
            if not await self._lease.acquire():
                return
            try:
                await self._while_leader(stop)
            except LeaseLostError as exc:
                IMAP_SESSION_ERRORS.labels(self._imap.account, "lease_lost").inc()
                _log.warning("imap reader lost its lease; stopped reading", lease=self._lease.name, error=str(exc))
            finally:
                await self._lease.release()

    async def _while_leader(self, stop: asyncio.Event) -> None:
        sessions = asyncio.create_task(self._sessions(stop))
        watch = asyncio.create_task(self._watch())
        try:
            done, _ = await asyncio.wait({sessions, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sessions, watch):
                task.cancel()
            await asyncio.wait({sessions, watch})
        if watch in done:
            watch.result()  # raises LeaseLostError
        sessions.result()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._reconnect.lease_check_interval_s)
            await self._check_lease()

    async def _check_lease(self) -> None:
        """Raise `LeaseLostError` unless the lease (if any) is still held."""
        if self._lease is None:
            return
        async with self._lease_check:
            await self._lease.ensure_held()

    async def _sessions(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        failures = 0  # sessions in a row that broke soon after opening
        while not stop.is_set():
            self._state = ReaderState.CONNECTING
            connection = await self._connect()
            opened_at = loop.time()
            try:
                self._state = ReaderState.READING
                await self._ingestor.run(connection, stop, self._check_lease)
            except (ImapConnectionError, ImapCommandError, PublishError) as exc:
                # A session that broke at once (a MOVE the server refuses, Kafka down) would otherwise re-publish
                # the same batch every second: back off until a session lasts.
                lasted = loop.time() - opened_at > self._reconnect.backoff_max_s
                failures = 0 if lasted else failures + 1
                IMAP_SESSION_ERRORS.labels(self._imap.account, type(exc).__name__).inc()
                _log.warning(
                    "imap session ended; reconnecting",
                    account=self._imap.account,
                    error=str(exc),
                    failures_in_a_row=failures,
                )
            finally:
                await connection.close()
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._pause(failures))
            except TimeoutError:
                continue

    def _pause(self, failures: int) -> float:
        policy = self._reconnect
        step = min(policy.backoff_max_s, policy.pause_after_session_s * 2.0 ** min(max(failures - 1, 0), 30))
        return step + self._rng.uniform(0, policy.backoff_jitter_s)

    async def _connect(self) -> ImapConnection:
        policy = self._reconnect
        async for attempt in stamina.retry_context(
            on=(ImapConnectionError, ImapCommandError),
            attempts=None,
            timeout=None,
            wait_initial=policy.backoff_initial_s,
            wait_max=policy.backoff_max_s,
            wait_jitter=policy.backoff_jitter_s,
        ):
            with attempt:
                try:
                    return await self._open_prepared()
                except (ImapConnectionError, ImapCommandError) as exc:
                    IMAP_SESSION_ERRORS.labels(self._imap.account, type(exc).__name__).inc()
                    _log.warning(
                        "imap connection failed; retrying",
                        account=self._imap.account,
                        error=str(exc),
                        attempt=attempt.num,
                        retry_in_s=round(attempt.next_wait, 3),
                    )
                    raise
        raise AssertionError("unreachable: retrying without attempt or time limit")  # pragma: no cover

    async def _open_prepared(self) -> ImapConnection:
        connection = await self._open(self._imap)
        try:
            await self._ingestor.prepare(connection)
        except BaseException:
            await connection.close()
            raise
        return connection
