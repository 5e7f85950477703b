"""The one leader loop with an in-memory lease: work runs only while the lease is held, stops at once when it is
lost, and on shutdown a step in flight finishes while idle work is cancelled at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from regpipe.leadership import LeaderState, LeaseLostError, Shift, run_while_leader


class FakeLease:
    """A lease granted on demand by the test, lost when the test says so."""

    def __init__(self) -> None:
        self.name = "fake:lease"
        self.granted = asyncio.Event()
        self.lost = False
        self.releases = 0

    async def acquire(self) -> bool:
        await self.granted.wait()
        self.lost = False
        return True

    async def ensure_held(self) -> None:
        if self.lost:
            raise LeaseLostError("taken away by the test")

    async def release(self) -> None:
        self.releases += 1
        self.granted.clear()


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 -- the loop's state has no event to await
            await asyncio.sleep(0.01)


async def test_work_runs_only_while_the_lease_is_held_and_stops_when_it_is_lost() -> None:
    lease = FakeLease()
    stop = asyncio.Event()
    states: list[LeaderState] = []
    lost: list[LeaseLostError] = []
    working = 0
    started = 0

    async def lead(shift: Shift) -> None:
        nonlocal working, started
        started += 1
        working += 1
        try:
            await asyncio.Event().wait()  # works for ever
        finally:
            working -= 1

    loop = asyncio.create_task(
        run_while_leader(
            lease, lead, stop, check_interval_s=0.02, shutdown_grace_s=5, on_state=states.append, on_lost=lost.append
        )
    )
    await _until(lambda: states == [LeaderState.STANDING_BY])
    assert started == 0  # no lease, no work

    lease.granted.set()
    await _until(lambda: working == 1)
    assert states[-1:] == [LeaderState.LEADING]

    lease.lost = True
    await _until(lambda: working == 0 and states[-1] is LeaderState.STANDING_BY)
    assert len(lost) == 1
    assert lease.releases == 1

    lease.granted.set()  # the lease comes back: work starts again
    await _until(lambda: started == 2 and working == 1)
    stop.set()
    await asyncio.wait_for(loop, timeout=5)
    assert working == 0
    assert states[-1:] == [LeaderState.STOPPED]
    assert lease.releases == 2


async def test_on_stop_a_step_in_flight_finishes_but_waiting_work_is_cancelled_at_once() -> None:
    stop = asyncio.Event()
    step_may_end = asyncio.Event()
    in_step = asyncio.Event()
    finished_steps = 0

    async def lead(shift: Shift) -> None:
        nonlocal finished_steps
        with shift.step():
            in_step.set()
            await step_may_end.wait()
            finished_steps += 1
        await asyncio.sleep(3600)  # waiting for the next step: cut at once on stop

    loop = asyncio.create_task(run_while_leader(None, lead, stop, check_interval_s=1, shutdown_grace_s=30))
    await asyncio.wait_for(in_step.wait(), timeout=5)
    stop.set()
    await asyncio.sleep(0.1)
    assert not loop.done()  # the step is still in flight and has its grace period
    step_may_end.set()
    await asyncio.wait_for(loop, timeout=5)  # then the idle wait is cancelled without waiting the grace out
    assert finished_steps == 1


async def test_a_step_that_outlasts_the_grace_period_is_cancelled() -> None:
    stop = asyncio.Event()
    in_step = asyncio.Event()

    async def lead(shift: Shift) -> None:
        with shift.step():
            in_step.set()
            await asyncio.sleep(3600)

    loop = asyncio.create_task(run_while_leader(None, lead, stop, check_interval_s=1, shutdown_grace_s=0.2))
    await asyncio.wait_for(in_step.wait(), timeout=5)
    stop.set()
    await asyncio.wait_for(loop, timeout=5)


async def test_an_error_of_the_work_is_raised_after_the_lease_is_released() -> None:
    lease = FakeLease()
    lease.granted.set()

    async def lead(shift: Shift) -> None:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        await run_while_leader(lease, lead, asyncio.Event(), check_interval_s=1, shutdown_grace_s=1)
    assert lease.releases == 1
