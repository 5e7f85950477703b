"""Test support: a loopback TCP proxy that can black-hole its connections (keep them open, forward nothing), as a
network partition does to a client that still believes its connection is alive."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

__all__ = ["BlackHoleProxy", "blackhole_proxy"]


class BlackHoleProxy:
    """Forwards 127.0.0.1:`port` to the target until `black_hole()`; then bytes are read and dropped."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._holed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    def black_hole(self) -> None:
        """From now on nothing passes, in either direction; no connection is closed."""
        self._holed = True

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                if not self._holed:
                    writer.write(data)
                    await writer.drain()

    async def serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        """Forward one client connection (the `asyncio.start_server` callback)."""
        server_reader, server_writer = await asyncio.open_connection(*self._target)
        pipes = [
            asyncio.create_task(self._pipe(client_reader, server_writer)),
            asyncio.create_task(self._pipe(server_reader, client_writer)),
        ]
        self._tasks.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            for stream in (client_writer, server_writer):
                stream.close()


@contextlib.asynccontextmanager
async def blackhole_proxy(target_host: str, target_port: int) -> AsyncIterator[BlackHoleProxy]:
    """Serve a `BlackHoleProxy` on a free loopback port."""
    proxy = BlackHoleProxy(target_host, target_port)
    server = await asyncio.start_server(proxy.serve, "127.0.0.1", 0)
    proxy.port = server.sockets[0].getsockname()[1]
    try:
        yield proxy
    finally:
        server.close()
        for task in proxy._tasks:
            task.cancel()
        await asyncio.gather(*proxy._tasks, return_exceptions=True)
