"""Serving an ASGI app inside a process that owns its own signals (workers, simulators, the demo)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import uvicorn

__all__ = ["EmbeddedServer", "serve_app"]


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve_app(app: Any, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[int]:
    """Serve `app` on `host:port` (0: any free port) in the running loop; yields the bound port."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so; without it answers wait for
    # the peer's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = EmbeddedServer(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # re-raise why it could not start
            await asyncio.sleep(0.01)
        bound: int = sock.getsockname()[1]
        yield bound
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        sock.close()
