"""The one leader loop: wait for a lease, do the leader's work while a watcher keeps checking the lease, stop the
work at once when the lease is lost, queue up again; on shutdown let a step in flight finish (within a grace
period) and cancel the work between steps, so a worker that is only waiting or backing off stops at once.

Every replicated worker (the pollers, the IMAP parser) runs its work through `run_while_leader`, so "only the
lease holder acts" means the same thing, with the same timings, in every service.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Protocol, TypeVar

import stamina

from regpipe.leadership.lease import LeaseLostError
from regpipe.observability.logging import get_logger

__all__ = ["BackoffHook", "LeaderState", "Lease", "Shift", "run_while_leader"]

_log = get_logger(__name__)

T = TypeVar("T")

#: stamina's hook: True to back off exponentially, a number of seconds to pause that long, False to raise.
BackoffHook = Callable[[Exception], bool | float]


class Lease(Protocol):
    """What the loop needs of a lease (`ExpiringLease`, or a fake in unit tests)."""

    @property
    def name(self) -> str:
        """The lease name, for logs."""
        ...

    async def acquire(self) -> bool:
        """Wait until held (True) or stopped (False)."""
        ...

    async def ensure_held(self) -> None:
        """Raise `LeaseLostError` unless the lease is still held."""
        ...

    async def release(self) -> None:
        """Give the lease up."""
        ...


class LeaderState(StrEnum):
    """Where a replica is in its life; readiness is known once it left STARTING."""

    STARTING = "starting"
    STANDING_BY = "standing_by"
    LEADING = "leading"
    STOPPED = "stopped"


class Shift:
    """What the leader's work is given: the `stop` event, and `step()` to mark what should finish, not be cut.

    A step is one unit the worker would rather complete on shutdown (a poll, its publish and its ACKs; a batch of
    mail). Between steps (waiting for the next poll, backing off after a failure) the work is cancelled at once.
    """

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self._steps = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextmanager
    def step(self) -> Iterator[None]:
        """Mark the block as a step: on stop it gets the grace period to finish."""
        self._steps += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._steps -= 1
            if not self._steps:
                self._idle.set()

    async def between_steps(self) -> None:
        """Return once no step is in flight."""
        await self._idle.wait()

    async def fenced_step(
        self,
        lease: Lease,
        step: Callable[[], Awaitable[T]],
        *,
        backoff: BackoffHook,
        initial_s: float,
        max_s: float,
    ) -> T:
        """Run `step` as a step after checking `lease` (the fencing check), retried with stamina until it succeeds.

        `backoff` decides per failure (and is where a worker logs and counts it); the waits between attempts are
        not steps, so a stop cancels them at once.
        """
        async for attempt in stamina.retry_context(
            on=backoff, attempts=None, timeout=None, wait_initial=initial_s, wait_max=max_s, wait_jitter=initial_s
        ):
            with attempt, self.step():
                await lease.ensure_held()
                return await step()
        raise AssertionError("unreachable: retrying without attempt or time limit")  # pragma: no cover


async def run_while_leader(
    lease: Lease | None,
    lead: Callable[[Shift], Awaitable[None]],
    stop: asyncio.Event,
    *,
    check_interval_s: float,
    shutdown_grace_s: float,
    on_state: Callable[[LeaderState], None] | None = None,
    on_lost: Callable[[LeaseLostError], None] | None = None,
) -> None:
    """Run `lead(shift)` whenever `lease` is held, until `stop` is set (`lease=None`: no election, always lead).

    The lease is checked every `check_interval_s` beside the work; when it is lost the work is cancelled at once
    (another replica may already lead), `on_lost` is told, and the replica stands by again. When `stop` is set a
    step in flight gets up to `shutdown_grace_s` to finish, then the work is cancelled. `lead` returning ends the
    loop; an exception of `lead` other than `LeaseLostError` is re-raised after the lease is released.
    """

    def enter(state: LeaderState) -> None:
        if on_state is not None:
            on_state(state)

    shift = Shift(stop)
    elections = asyncio.create_task(_elections(lease, lead, shift, check_interval_s, enter, on_lost))
    stopping = asyncio.create_task(stop.wait())
    settled: asyncio.Task[None] | None = None
    try:
        await asyncio.wait({elections, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not elections.done():
            settled = asyncio.create_task(shift.between_steps())
            await asyncio.wait({elections, settled}, timeout=shutdown_grace_s, return_when=asyncio.FIRST_COMPLETED)
            if not settled.done():
                _log.warning("leader work abandons its step in flight to stop", grace_s=shutdown_grace_s)
        if not elections.done():
            elections.cancel()
            await asyncio.wait({elections})
        if not elections.cancelled():
            elections.result()  # an unexpected error stops the service rather than leading on blindly
    finally:
        stopping.cancel()
        if settled is not None:
            settled.cancel()
        if not elections.done():  # run_while_leader itself was cancelled
            elections.cancel()
            await asyncio.wait({elections})
        enter(LeaderState.STOPPED)


async def _elections(
    lease: Lease | None,
    lead: Callable[[Shift], Awaitable[None]],
    shift: Shift,
    check_interval_s: float,
    enter: Callable[[LeaderState], None],
    on_lost: Callable[[LeaseLostError], None] | None,
) -> None:
    if lease is None:
        enter(LeaderState.LEADING)
        await lead(shift)
        return
    while not shift.stop.is_set():
        enter(LeaderState.STANDING_BY)
        if not await lease.acquire():
            return
        enter(LeaderState.LEADING)
        try:
            await _lead_watched(lease, lead, shift, check_interval_s)
            return
        except LeaseLostError as exc:
            _log.warning("lease lost; stopped leading", lease=lease.name, error=str(exc))
            if on_lost is not None:
                on_lost(exc)
        finally:
            await lease.release()


async def _lead_watched(
    lease: Lease, lead: Callable[[Shift], Awaitable[None]], shift: Shift, check_interval_s: float
) -> None:
    work = asyncio.ensure_future(lead(shift))
    watch = asyncio.create_task(_watch(lease, check_interval_s))
    try:
        done, _ = await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (work, watch):
            task.cancel()
        await asyncio.wait({work, watch})
    if watch in done:
        watch.result()  # raises LeaseLostError
    work.result()


async def _watch(lease: Lease, check_interval_s: float) -> None:
    """Return never; raise `LeaseLostError` as soon as a check fails."""
    while True:
        await asyncio.sleep(check_interval_s)
        await lease.ensure_held()
