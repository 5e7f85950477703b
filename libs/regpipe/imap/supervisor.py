"""Keeps one mailbox read for as long as the process runs: leader election, reconnecting, shutting down.

Only the holder of the mailbox's advisory lease reads it (`run_while_leader`); the lease is checked every few
seconds and before each batch, and reading stops at once when it is lost (the replica then waits to become leader
again). Connections
that cannot be made are retried with capped exponential backoff and jitter; a session that breaks is reopened
after a short pause. Wrong credentials or settings end `run` with the error: retrying cannot fix them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

import stamina

from regpipe.imap.config import ImapConfig
from regpipe.imap.connection import ImapConnection
from regpipe.imap.errors import ImapCommandError, ImapConnectionError
from regpipe.imap.ingestor import MailboxIngestor
from regpipe.kafka.errors import PublishError
from regpipe.leadership.loop import LeaderState, Lease, Shift, run_while_leader
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


_STATES = {
    LeaderState.STARTING: ReaderState.STARTING,
    LeaderState.STANDING_BY: ReaderState.WAITING_FOR_LEASE,
    LeaderState.STOPPED: ReaderState.STOPPED,
}


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
        lease: Lease | None,
        reconnect: ReconnectPolicy | None = None,
        opener: Opener = ImapConnection.open,
    ) -> None:
        self._imap = imap
        self._ingestor = ingestor
        self._lease = lease
        self._reconnect = reconnect or ReconnectPolicy()
        self._open = opener
        self._state = ReaderState.STARTING

    @property
    def state(self) -> ReaderState:
        """The current state."""
        return self._state

    def not_ready_reason(self) -> str | None:
        """None once this replica knows whether it leads; the readiness protocol of every ingest worker."""
        return "lease state not known yet" if self._state is ReaderState.STARTING else None

    async def run(self, stop: asyncio.Event) -> None:
        """Read until `stop` is set; the batch in flight gets `shutdown_grace_s`, then is abandoned.

        Abandoning is safe at any point: a message is moved only after its record is on Kafka, so an unmoved one
        is read and published again next time. Raises `ImapAuthError` / `ImapConfigError` when retrying is futile.
        """
        await run_while_leader(
            self._lease,
            self._sessions,
            stop,
            check_interval_s=self._reconnect.lease_check_interval_s,
            shutdown_grace_s=self._reconnect.shutdown_grace_s,
            on_state=self._enter,
            on_lost=lambda _: IMAP_SESSION_ERRORS.labels(self._imap.account, "lease_lost").inc(),
        )

    def _enter(self, state: LeaderState) -> None:
        # READING and CONNECTING are set by the sessions themselves once leading.
        if state is not LeaderState.LEADING:
            self._state = _STATES[state]

    async def _check_lease(self) -> None:
        """Raise `LeaseLostError` unless the lease (if any) is still held (the ingestor asks before each batch)."""
        if self._lease is not None:
            await self._lease.ensure_held()

    async def _sessions(self, shift: Shift) -> None:
        policy = self._reconnect
        while not shift.stop.is_set():
            # A session that broke at once (a MOVE the server refuses, Kafka down) would otherwise re-publish the
            # same batch every second: back off until a session lasts; a session that lasted starts afresh.
            async for attempt in stamina.retry_context(
                on=(ImapConnectionError, ImapCommandError, PublishError),
                attempts=None,
                timeout=None,
                wait_initial=policy.pause_after_session_s,
                wait_max=policy.backoff_max_s,
                wait_jitter=policy.backoff_jitter_s,
            ):
                with attempt:
                    await self._session(shift)
            await asyncio.sleep(policy.pause_after_session_s)  # cancelled at once on stop: no step in flight

    async def _session(self, shift: Shift) -> None:
        """One session: returns when `stop` is set or a session that lasted broke; raises when it broke at once."""
        loop = asyncio.get_running_loop()
        self._state = ReaderState.CONNECTING
        connection = await self._connect()
        opened_at = loop.time()
        try:
            self._state = ReaderState.READING
            with shift.step():  # the ingestor finishes its batch when `stop` is set, then returns
                await self._ingestor.run(connection, shift.stop, self._check_lease)
        except (ImapConnectionError, ImapCommandError, PublishError) as exc:
            lasted = loop.time() - opened_at > self._reconnect.backoff_max_s
            IMAP_SESSION_ERRORS.labels(self._imap.account, type(exc).__name__).inc()
            _log.warning("imap session ended; reconnecting", account=self._imap.account, error=str(exc), lasted=lasted)
            if not lasted:
                raise
        finally:
            await connection.close()

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
