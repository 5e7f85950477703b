"""`LocalStack`: Kafka, PostgreSQL and Dovecot together, with their endpoints in `stack.json`.

Other processes (services, the demo, a shell via `regpipe-stack env`) find a running stack by
reading `<state dir>/stack.json`; it is written once every server is ready and removed on stop.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from regpipe.stack.dovecot import DovecotServer
from regpipe.stack.errors import StackError
from regpipe.stack.kafka import KafkaServer
from regpipe.stack.leftovers import stop_leftovers
from regpipe.stack.postgres import PostgresServer
from regpipe.stack.server import LocalServer, run_sync

__all__ = ["ENDPOINTS_FILE", "ImapEndpoint", "LocalStack", "StackEndpoints"]

ENDPOINTS_FILE = "stack.json"


@dataclass(frozen=True, slots=True)
class ImapEndpoint:
    """Where the IMAP server listens and the mailbox the stack created."""

    host: str
    port: int
    ssl_port: int | None
    ca_file: str | None
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class StackEndpoints:
    """The endpoints of a running stack; None for a server the stack does not run."""

    kafka_bootstrap_servers: str | None
    postgres_dsn: str | None
    imap: ImapEndpoint | None
    pid: int

    def to_json(self) -> str:
        """Serialise for `stack.json`."""
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> StackEndpoints:
        """Parse the content of a `stack.json`."""
        raw: dict[str, Any] = json.loads(text)
        imap = raw.get("imap")
        return cls(
            kafka_bootstrap_servers=raw.get("kafka_bootstrap_servers"),
            postgres_dsn=raw.get("postgres_dsn"),
            imap=ImapEndpoint(**imap) if imap else None,
            pid=int(raw["pid"]),
        )

    @classmethod
    def read(cls, state_dir: Path) -> StackEndpoints:
        """Read `<state_dir>/stack.json`; `StackError` when no stack has written one."""
        path = state_dir / ENDPOINTS_FILE
        try:
            return cls.from_json(path.read_text())
        except FileNotFoundError as error:
            raise StackError(f"no running stack: {path} does not exist (start one with `up`)") from error

    def environment(self) -> dict[str, str]:
        """The variables services read their connection settings from."""
        env: dict[str, str] = {}
        if self.kafka_bootstrap_servers:
            env["KAFKA_BOOTSTRAP_SERVERS"] = self.kafka_bootstrap_servers
        if self.postgres_dsn:
            env["POSTGRES_DSN"] = self.postgres_dsn
        if self.imap is not None:
            env["IMAP_HOST"] = self.imap.host
            env["IMAP_PORT"] = str(self.imap.port)
            env["IMAP_USERNAME"] = self.imap.username
            env["IMAP_PASSWORD"] = self.imap.password
            if self.imap.ssl_port is not None:
                env["IMAP_SSL_PORT"] = str(self.imap.ssl_port)
            if self.imap.ca_file is not None:
                env["IMAP_CA_FILE"] = self.imap.ca_file
        return env


class LocalStack:
    """Each server optional, all state under `state_dir` (kept between runs unless `reset`).

    Sync: `with LocalStack(path) as stack:`; async: `async with LocalStack(path) as stack:`.
    Servers launch one after the other (launching is quick) and become ready in parallel.
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        kafka: bool = True,
        postgres: bool = True,
        imap: bool = True,
        reset: bool = False,
    ) -> None:
        self.state_dir = state_dir.resolve()
        # A run killed with SIGKILL could not stop its servers: stop them now, before their data dirs are reused.
        self.leftovers = stop_leftovers(self.state_dir) if self.state_dir.exists() else []
        if reset:
            for name in ("kafka", "postgres", "imap", ENDPOINTS_FILE):
                path = self.state_dir / name
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.kafka = KafkaServer(self.state_dir / "kafka") if kafka else None
        # fast=False: the state dir outlives the process, so keep PostgreSQL crash-safe here.
        self.postgres = PostgresServer(self.state_dir / "postgres", fast=False) if postgres else None
        self.imap = DovecotServer(self.state_dir / "imap") if imap else None
        self._started: list[LocalServer] = []

    @property
    def servers(self) -> list[LocalServer]:
        """The servers this stack runs."""
        return [s for s in (self.kafka, self.postgres, self.imap) if s is not None]

    @property
    def endpoints(self) -> StackEndpoints:
        """Where each server listens (valid once started)."""
        imap = None
        if self.imap is not None:
            user = self.imap.default_user
            ca_file = self.imap.ca_file
            imap = ImapEndpoint(
                host=self.imap.host,
                port=self.imap.port,
                ssl_port=self.imap.ssl_port,
                ca_file=str(ca_file) if ca_file is not None else None,
                username=user.username,
                password=user.password,
            )
        return StackEndpoints(
            kafka_bootstrap_servers=self.kafka.bootstrap_servers if self.kafka else None,
            postgres_dsn=self.postgres.dsn if self.postgres else None,
            imap=imap,
            pid=os.getpid(),
        )

    async def astart(self) -> StackEndpoints:
        """Start every server, wait until all are ready, write `stack.json`; stop all on failure."""
        try:
            for server in self.servers:
                await asyncio.to_thread(server.start)
                self._started.append(server)
            await _all_ready(self._started)
        except BaseException:
            await asyncio.to_thread(self.stop)
            raise
        endpoints = self.endpoints
        (self.state_dir / ENDPOINTS_FILE).write_text(endpoints.to_json())
        return endpoints

    def start(self) -> StackEndpoints:
        """Sync `astart()`; not usable inside a running event loop."""
        return run_sync(self.astart())

    def stop(self) -> None:
        """Remove `stack.json` and stop the servers in reverse order; the first error is re-raised."""
        (self.state_dir / ENDPOINTS_FILE).unlink(missing_ok=True)
        first_error: StackError | None = None
        while self._started:
            server = self._started.pop()
            try:
                server.stop()
            except StackError as error:
                # Keep stopping the others: one stuck server must not leave the rest running.
                first_error = first_error or error
        if first_error is not None:
            raise first_error

    def __enter__(self) -> Self:
        self.start()
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
        await asyncio.to_thread(self.stop)


async def _all_ready(servers: list[LocalServer]) -> None:
    """Wait for every server in parallel; on the first failure cancel the other waits and raise it."""
    tasks = [asyncio.create_task(server.wait_ready()) for server in servers]
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()  # a no-op for finished tasks; stops the rest when we fail or are cancelled
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        error = task.exception()
        if error is not None:
            raise error
