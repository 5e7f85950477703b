"""The aggregator's timed work, run by one replica at a time (the lease holder): expiry checkpoints that fell due
and Cold Mail orders that have been quiet long enough. The clock is injected, so tests drive time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from regpipe.aggregate.errors import StoreUnavailableError
from regpipe.aggregate.store import produce_due_checkpoints, settle_quiet_orders
from regpipe.leadership import LeaderState, Lease, Shift, run_while_leader
from regpipe.observability.logging import get_logger

__all__ = ["Clock", "Scheduler", "SchedulerConfig"]

_log = get_logger(__name__)

#: Returns the current time (aware, UTC).
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    """How often the scheduler scans, the Cold Mail quiet time, and the lease timings."""

    interval_s: float = 30.0
    settle_quiet_s: float = 600.0
    lease_check_interval_s: float = 2.0
    shutdown_grace_s: float = 5.0


class Scheduler:
    """Scans for due checkpoints and quiet orders every `interval_s` while leader; wakes the relay after each scan."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        config: SchedulerConfig,
        *,
        lease: Lease | None,
        wake_relay: asyncio.Event | None = None,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._config = config
        self._lease = lease
        self._wake_relay = wake_relay
        self.state = LeaderState.STARTING
        self.scans = 0

    async def scan_once(self) -> tuple[int, int]:
        """One scan at the clock's time: (checkpoints produced, orders settled)."""
        now = self._clock()
        produced = await produce_due_checkpoints(self._pool, now=now)
        settled = await settle_quiet_orders(self._pool, now=now, quiet_s=self._config.settle_quiet_s)
        self.scans += 1
        if (produced or settled) and self._wake_relay is not None:
            self._wake_relay.set()
        if produced or settled:
            _log.info("scheduler produced", checkpoints=len(produced), settled=settled, now=now.isoformat())
        return len(produced), settled

    async def run(self, stop: asyncio.Event) -> None:
        """Scan whenever this replica holds the lease, until `stop`."""
        await run_while_leader(
            self._lease,
            self._lead,
            stop,
            check_interval_s=self._config.lease_check_interval_s,
            shutdown_grace_s=self._config.shutdown_grace_s,
            on_state=self._enter,
        )

    def _enter(self, state: LeaderState) -> None:
        self.state = state

    async def _lead(self, shift: Shift) -> None:
        while not shift.stop.is_set():
            with shift.step():
                try:
                    await self.scan_once()
                except StoreUnavailableError as exc:
                    _log.warning("scheduler scan failed; next scan retries", error=str(exc))
            try:
                await asyncio.wait_for(shift.stop.wait(), timeout=self._config.interval_s)
            except TimeoutError:
                continue
