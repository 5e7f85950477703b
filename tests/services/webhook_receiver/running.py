"""The receiver, running for real: in this process under uvicorn (the test's event loop), or as a subprocess
started the way production starts it (`python -m regpipe.services.webhook_receiver`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import uvicorn

from regpipe.services.webhook_receiver.app import create_app
from regpipe.services.webhook_receiver.settings import WebhookReceiverSettings


class _EmbeddedServer(uvicorn.Server):
    """Leaves the test process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def wait_ready(base_url: str, timeout_s: float = 60.0) -> None:
    """Until `/readyz` answers 200 (the producer is connected)."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=base_url, timeout=2.0) as client:
        while True:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise TimeoutError(f"receiver at {base_url} not ready within {timeout_s} s")
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def serve(settings: WebhookReceiverSettings, *, ready: bool = True) -> AsyncIterator[str]:
    """Serve `create_app(settings)` on `settings.webhook_port`; yields the base URL."""
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=settings.webhook_port,
        http="httptools",
        access_log=False,
        log_config=None,
        lifespan="on",
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve())
    base_url = f"http://127.0.0.1:{settings.webhook_port}"
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        if ready:
            await wait_ready(base_url)
        yield base_url
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


class ReceiverProcess:
    """`python -m regpipe.services.webhook_receiver` with `env`, its output appended to `log_file`."""

    def __init__(self, env: dict[str, str], port: int, log_file: Path) -> None:
        self.env = {**os.environ, **env, "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(port)}
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_file = log_file
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Launch and wait until ready."""
        with self.log_file.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "regpipe.services.webhook_receiver",
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        await wait_ready(self.base_url)

    async def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would."""
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()

    async def stop(self) -> None:
        """SIGTERM (graceful: in-flight requests finish, the producer flushes), SIGKILL after 15 s."""
        if self._process is None or self._process.returncode is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self._process.wait(), timeout=15)
        except TimeoutError:
            await self.kill()

    def output(self) -> str:
        """Everything the process (and its predecessors on the same log file) printed."""
        return self.log_file.read_text(errors="replace")
