"""A deadline per record: a watchdog thread interrupts the mapping of a record that runs past it.

A record that makes a mapper spin (an 844 KB e-mail once took 42 s to map) would otherwise hold the event loop
past the consumer's session timeout: the partition is revoked, the batch never committed and the next owner
repeats it for ever. The stage maps on its own thread, as before; a watchdog thread wakes a few times per
deadline and, when one record has run past it, raises `_DeadlineExceeded` in the mapping thread (CPython's
`PyThreadState_SetAsyncExc`, delivered between two bytecodes). The record becomes a `deadline_exceeded`
quarantine record and the stage goes on with the next one.

Why not map on a worker thread with a timeout: measured on the 2-core benchmark machine under load, two
CPU-bound threads passing the GIL back and forth left the normalizer idle two thirds of the time (16.6 CPU
seconds in 45 s of wall time, 433 raw records/s against 1,800 before). A process pool pays per-record pickling
of records and events, more than the mapping itself costs. What a thread cannot interrupt is one long C call
holding the GIL (a pathological regular expression); the e-mail reader's byte budgets keep known shapes linear.

The interruption is only ever raised while a record is being mapped: the watchdog raises it under a lock, only
for the record still marked active, at most once; the mapping thread clears the mark, and cancels an interruption
not yet delivered, under the same lock. Cost: two lock round trips and a clock reading per record.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from regpipe.observability.logging import get_logger

__all__ = ["DeadlineWatchdog"]

_log = get_logger(__name__)

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


class _DeadlineExceeded(BaseException):
    """Raised in the mapping thread; a BaseException so that no `except Exception` in a mapper swallows it."""


def _raise_in(thread_id: int, exc: type[BaseException] | None) -> None:
    # None cancels an exception set earlier that the thread has not met yet.
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc else None)


class DeadlineWatchdog:
    """Runs one call at a time on the calling thread, interrupting it after `deadline_s`."""

    def __init__(self, deadline_s: float) -> None:
        self._deadline_s = deadline_s
        self._lock = threading.Lock()
        # (thread id, started) of the call being watched; written under the lock only.
        self._active: tuple[int, float] | None = None
        self._interrupted = False
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def run(self, work: Callable[[_Item], _Result], item: _Item, on_timeout: Callable[[_Item], _Result]) -> _Result:
        """`work(item)`, or `on_timeout(item)` when it ran past the deadline and was interrupted."""
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="regpipe-mapping-deadline", daemon=True)
            self._watcher.start()
        with self._lock:
            self._active = (threading.get_ident(), time.monotonic())
        try:
            result = work(item)
            self._settle()
        except _DeadlineExceeded:
            self._settle()
            return on_timeout(item)
        return result

    def _settle(self) -> None:
        with self._lock:
            active, self._active = self._active, None
            if self._interrupted and active is not None:
                _raise_in(active[0], None)
            self._interrupted = False

    def _watch(self) -> None:
        tick = max(0.01, self._deadline_s / 4)
        while not self._stop.wait(tick):
            with self._lock:
                active = self._active
                if active is None or self._interrupted or time.monotonic() - active[1] < self._deadline_s:
                    continue
                self._interrupted = True
                _raise_in(active[0], _DeadlineExceeded)
            _log.warning("record past its mapping deadline; interrupted", deadline_s=self._deadline_s)

    def close(self) -> None:
        """Stop the watchdog thread."""
        self._stop.set()
        self._watcher = None
