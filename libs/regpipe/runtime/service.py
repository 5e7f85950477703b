"""Runs a long-lived worker service: its main coroutine beside a health server, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

import uvicorn

from regpipe.observability.logging import get_logger
from regpipe.observability.tracing import configure_tracing, shutdown_tracing
from regpipe.runtime.health import ReadinessCheck, health_app
from regpipe.runtime.http import EmbeddedServer

__all__ = ["run_worker"]

_log = get_logger(__name__)


async def run_worker(
    service: str,
    work: Callable[[asyncio.Event], Awaitable[None]],
    *,
    ready: ReadinessCheck,
    health_host: str = "127.0.0.1",
    health_port: int = 0,
) -> None:
    """Run `work(stop)` until it returns or a signal sets `stop`; serve health endpoints meanwhile.

    `work` must watch `stop` and return promptly (finishing or abandoning its in-flight record without
    committing it), which is what makes a SIGTERM graceful. `health_port=0` disables the health server.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server: EmbeddedServer | None = None
    tasks: list[asyncio.Task[None]] = []
    if health_port:
        config = uvicorn.Config(
            health_app(service, ready), host=health_host, port=health_port, log_level="warning", access_log=False
        )
        server = EmbeddedServer(config)
        tasks.append(asyncio.create_task(server.serve(), name=f"{service}-health"))
    # Off unless the standard OTEL_* variables ask for an exporter.
    tracing = configure_tracing(service)
    _log.info("service starting", health_port=health_port, tracing=tracing is not None)
    try:
        await work(stop)
    finally:
        stop.set()
        if server is not None:
            server.should_exit = True
        for task in tasks:
            await asyncio.wait_for(task, timeout=10)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        if tracing is not None:
            shutdown_tracing()  # export what is still buffered
        _log.info("service stopped")
