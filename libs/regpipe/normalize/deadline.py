"""Mapping a batch on a worker thread, each record with a deadline, so that no record can hold the stage.

A record that makes a mapper spin (an 844 KB e-mail once took 42 s to map) would otherwise run on the event loop
past the consumer's session timeout: the partition is revoked, the batch never committed and the next owner
repeats it for ever. Here the event loop only waits: it keeps heartbeating and producing while a thread maps, and
when one record runs past the deadline it raises `_DeadlineExceeded` inside that thread (CPython's
`PyThreadState_SetAsyncExc`, delivered between two bytecodes); the record becomes a `deadline_exceeded`
quarantine record and the thread carries on with the next one. A thread that does not answer within a grace
period (stuck in one long C call) is abandoned and a fresh one takes the rest of the batch.

Cost: one hand-over to the thread per batch and a clock reading per record (`docs/stages.md` has the figures).
"""

from __future__ import annotations

import asyncio
import ctypes
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from regpipe.observability.logging import get_logger

__all__ = ["DeadlineRunner"]

_log = get_logger(__name__)

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


class _DeadlineExceeded(BaseException):
    """Raised inside the worker thread; a BaseException so that no `except Exception` in a mapper swallows it."""


@dataclass(slots=True)
class _Job(Generic[_Item, _Result]):
    items: Sequence[_Item]
    loop: asyncio.AbstractEventLoop
    done: asyncio.Future[None]
    results: list[_Result] = field(default_factory=list)
    #: (index of the record being mapped, when it started), or None between records; set by the worker only.
    active: tuple[int, float] | None = None
    #: The record an interruption was sent for, and when; set by the event loop only.
    interrupted: tuple[int, float] | None = None
    #: Set when the thread was abandoned: it stops after the call it is stuck in.
    cancelled: bool = False


class _Worker(Generic[_Item, _Result]):
    """One thread serving jobs in order."""

    def __init__(self, work: Callable[[_Item], _Result], on_timeout: Callable[[_Item], _Result]) -> None:
        self._work = work
        self._on_timeout = on_timeout
        self.jobs: queue.SimpleQueue[_Job[_Item, _Result] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name="regpipe-mapping", daemon=True)
        self.thread.start()

    def interrupt(self) -> None:
        """Raise `_DeadlineExceeded` in the thread at its next bytecode."""
        ident = self.thread.ident
        if ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(_DeadlineExceeded))

    def _serve(self) -> None:
        while True:
            try:
                job = self.jobs.get()
                if job is None:
                    return
                self._run(job)
            except _DeadlineExceeded:
                continue  # an interruption that landed after its record was done: nothing to undo

    def _run(self, job: _Job[_Item, _Result]) -> None:
        items, results = job.items, job.results
        while len(results) < len(items) and not job.cancelled:
            try:
                while len(results) < len(items) and not job.cancelled:
                    index = len(results)
                    job.active = (index, time.monotonic())
                    result = self._work(items[index])
                    job.active = None
                    results.append(result)
            except _DeadlineExceeded:
                job.active = None
                # Only the record the interruption was meant for is set aside; one that landed just after it
                # finished changes nothing.
                if job.interrupted is not None and job.interrupted[0] == len(results):
                    results.append(self._on_timeout(items[len(results)]))
        if not job.cancelled:
            job.loop.call_soon_threadsafe(_finish, job.done)


def _finish(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


class DeadlineRunner(Generic[_Item, _Result]):
    """Applies `work` to every item of a batch on a worker thread; an item still running after `deadline_s` gets
    `on_timeout(item)` as its result instead."""

    def __init__(
        self,
        work: Callable[[_Item], _Result],
        on_timeout: Callable[[_Item], _Result],
        *,
        deadline_s: float,
        grace_s: float = 2.0,
    ) -> None:
        self._work = work
        self._on_timeout = on_timeout
        self._deadline_s = deadline_s
        self._grace_s = grace_s
        self._tick_s = max(0.01, deadline_s / 4)
        self._worker: _Worker[_Item, _Result] | None = None

    async def run(self, items: Sequence[_Item]) -> list[_Result]:
        """The results of `items`, in order."""
        loop = asyncio.get_running_loop()
        results: list[_Result] = []
        while len(results) < len(items):
            if self._worker is None:
                self._worker = _Worker(self._work, self._on_timeout)
            worker = self._worker
            job: _Job[_Item, _Result] = _Job(items[len(results) :], loop, loop.create_future())
            worker.jobs.put(job)
            abandoned = await self._watch(worker, job)
            if abandoned is None:
                results.extend(job.results)
            else:
                # The thread is stuck in one call: keep what it finished, set the record aside, go on elsewhere.
                results.extend(job.results[:abandoned])
                results.append(self._on_timeout(job.items[abandoned]))
                self._worker = None
        return results

    async def _watch(self, worker: _Worker[_Item, _Result], job: _Job[_Item, _Result]) -> int | None:
        """Wait for `job`, interrupting a record past its deadline; the index of a record abandoned, else None."""
        while True:
            await asyncio.wait([job.done], timeout=self._tick_s)
            if job.done.done():
                return None
            active, now = job.active, time.monotonic()
            if active is None or now - active[1] < self._deadline_s:
                continue
            if job.interrupted is None or job.interrupted[0] != active[0]:
                job.interrupted = (active[0], now)
                _log.warning("record past its mapping deadline; interrupting it", deadline_s=self._deadline_s)
                worker.interrupt()
            elif now - job.interrupted[1] > self._grace_s and job.active == active:
                _log.error("mapping thread does not answer its deadline; abandoning it", deadline_s=self._deadline_s)
                job.cancelled = True
                worker.jobs.put(None)
                return active[0]

    def close(self) -> None:
        """Let the worker thread end once it is idle."""
        if self._worker is not None:
            self._worker.jobs.put(None)
            self._worker = None
