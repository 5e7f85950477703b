"""Waiting in tests: on a condition, polled until a deadline, never for a fixed time.

A test that sleeps and then asserts passes only while the machine is fast enough; one that polls a condition with a
generous deadline passes as soon as the condition holds and fails only when it never does (the suite runs beside a
CPU hog, `make test-stress`). Deadlines are generous on purpose: conditions that take milliseconds on a quiet
machine can take seconds on a loaded one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["DEFAULT_DEADLINE_S", "eventually", "eventually_async"]

DEFAULT_DEADLINE_S = 60.0
_INTERVAL_S = 0.05


async def eventually(condition: Callable[[], bool], what: str, timeout_s: float = DEFAULT_DEADLINE_S) -> None:
    """Return once `condition()` holds; `AssertionError` naming `what` if it still does not after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened within {timeout_s:g} s: {what}")
        await asyncio.sleep(_INTERVAL_S)


async def eventually_async(
    condition: Callable[[], Awaitable[bool]], what: str, timeout_s: float = DEFAULT_DEADLINE_S
) -> None:
    """`eventually` for a condition that has to ask a server (each question is bounded by the deadline too)."""
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"never happened within {timeout_s:g} s: {what}")
        try:
            async with asyncio.timeout(remaining):
                if await condition():
                    return
        except TimeoutError:
            raise AssertionError(f"never happened within {timeout_s:g} s: {what}") from None
        await asyncio.sleep(_INTERVAL_S)
