"""The life cycle shared by every local server: launch, wait until usable, stop.

Launching is synchronous (it runs short tools such as `initdb` and may download jars once);
readiness is an async probe that speaks the server's real protocol. Sync callers use
`start_and_wait()` or `with server:`, async callers `await server.astart()` or `async with server:`.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from regpipe.stack.errors import StackError

__all__ = ["LocalServer", "log_tail", "run_sync"]

_T = TypeVar("_T")


def run_sync(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run `coro` to completion from sync code; refuse inside a running event loop."""
    try:
        _refuse_running_loop()
    except StackError:
        coro.close()  # never awaited: close it so Python does not warn about it
        raise
    return asyncio.run(coro)


def _refuse_running_loop() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise StackError("called from a running event loop: use the async variant (astart/wait_ready) instead")


def log_tail(path: Path, lines: int = 40) -> str:
    """Return the last `lines` lines of a log file, or a note that it does not exist yet."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log file at {path})"
    return "\n".join(text.splitlines()[-lines:])


class LocalServer(abc.ABC):
    """A server process owned by this Python process.

    Subclasses implement `start()` (launch; returns once the process runs, not once it is usable),
    `wait_ready()` (async; returns once a real client request succeeded) and `stop()`.
    """

    @abc.abstractmethod
    def start(self) -> None:
        """Launch the server process; does not wait for readiness."""

    @abc.abstractmethod
    async def wait_ready(self) -> None:
        """Return once a real client request succeeded; `ServerStartError` after the server's `ready_timeout`."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop the server cleanly; a no-op when it is not running."""

    def start_and_wait(self) -> None:
        """Sync convenience: `start()` then `wait_ready()`; not usable inside a running event loop."""
        _refuse_running_loop()
        self.start()
        try:
            run_sync(self.wait_ready())
        except BaseException:
            self.stop()
            raise

    async def astart(self) -> None:
        """Async convenience: `start()` in a worker thread, then `wait_ready()`."""
        await asyncio.to_thread(self.start)
        try:
            await self.wait_ready()
        except BaseException:
            await asyncio.to_thread(self.stop)
            raise

    async def astop(self) -> None:
        """Async convenience: `stop()` in a worker thread, so the event loop keeps running."""
        await asyncio.to_thread(self.stop)

    def __enter__(self) -> Self:
        self.start_and_wait()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await self.astart()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.astop()
