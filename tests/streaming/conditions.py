"""Waiting on a condition with a deadline, for the in-memory tests of the shell."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["wait_for"]


async def wait_for(condition: Callable[[], bool], *, timeout_s: float = 30.0) -> None:
    """Yield to the other tasks until `condition()` holds; `TimeoutError` after `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 -- the fakes' state has no event to await
            await asyncio.sleep(0.001)
