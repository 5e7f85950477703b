"""Acknowledgements held until released: how kill tests catch a poller between publishing a page and
acknowledging it. A held acknowledgement whose client went away is never applied, as a real provider never
sees an acknowledgement whose request did not finish."""

from __future__ import annotations

import asyncio

from starlette.requests import Request

__all__ = ["HeldAcks"]


class HeldAcks:
    """The gate every acknowledgement passes; open unless `hold` was called."""

    def __init__(self) -> None:
        self._gate = asyncio.Event()
        self._gate.set()
        self._waiting = asyncio.Event()

    def hold(self) -> None:
        """Make acknowledgements wait, unapplied, until `release`."""
        self._waiting.clear()
        self._gate.clear()

    def release(self) -> None:
        """Let held and future acknowledgements through."""
        self._gate.set()

    async def wait_for_held(self, timeout_s: float) -> None:
        """Return once an acknowledgement arrives while they are held (the client has published what it read)."""
        await asyncio.wait_for(self._waiting.wait(), timeout=timeout_s)

    async def admit(self, request: Request) -> bool:
        """Wait while held; False if the client went away meanwhile (then the acknowledgement must not apply)."""
        if self._gate.is_set():
            return True
        self._waiting.set()
        await self._gate.wait()
        return not await request.is_disconnected()
