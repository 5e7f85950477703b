"""One way to serve a simulator: its ASGI app on a loopback port inside the running loop, closed before the
server stops (the server waits for answers in flight, so stalls and held acknowledgements must end first)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from starlette.types import ASGIApp

from regpipe.runtime.http import serve_app

__all__ = ["serve"]


@asynccontextmanager
async def serve(
    app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *, on_close: Callable[[], None] | None = None
) -> AsyncIterator[str]:
    """Serve `app` on `host:port` (0: any free port); yields its base URL; calls `on_close` before stopping."""
    async with serve_app(app, host, port) as bound:
        try:
            yield f"http://{host}:{bound}"
        finally:
            if on_close is not None:
                on_close()
