"""A throwaway PostgreSQL server of our own: private data dir, socket dir and loopback port.

Uses the Debian package's binaries (`/usr/lib/postgresql/<major>/bin`, or `$REGPIPE_PG_BIN`).
`initdb` refuses to run as root, so as root the server runs as the `postgres` system user.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg

from regpipe.pg.migrate import apply_migrations
from regpipe.stack.access import require_traversable
from regpipe.stack.errors import ServerStartError, StackError
from regpipe.stack.ports import free_port
from regpipe.stack.server import LocalServer, log_tail

__all__ = ["PostgresServer", "find_pg_bin"]

PG_BIN_ENV = "REGPIPE_PG_BIN"
_DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")
_USER = "regpipe"
_DATABASE = "regpipe"
_SERVICE_USER = "postgres"


def find_pg_bin() -> Path:
    """`$REGPIPE_PG_BIN`, else the highest `/usr/lib/postgresql/<major>/bin` holding `initdb`."""
    configured = os.environ.get(PG_BIN_ENV)
    if configured:
        path = Path(configured)
        if not (path / "initdb").exists():
            raise StackError(f"${PG_BIN_ENV}={configured} holds no initdb")
        return path
    majors = sorted(
        (entry for entry in _DEBIAN_PG_ROOT.glob("*/bin") if (entry / "initdb").exists()),
        key=lambda entry: int(entry.parent.name) if entry.parent.name.isdigit() else -1,
    )
    if not majors:
        raise StackError(
            f"no PostgreSQL server binaries under {_DEBIAN_PG_ROOT}: run scripts/bootstrap.sh "
            f"(it installs the `postgresql` package), or set ${PG_BIN_ENV}"
        )
    return majors[-1]


class PostgresServer(LocalServer):
    """A private PostgreSQL cluster with a `regpipe` superuser (trust auth) and a `regpipe` database.

    With `base_dir=None` the server lives in a fresh temp dir that `stop()` deletes; with a
    `base_dir` it is kept, and a later instance on it reuses the cluster. `fast=True` turns off
    fsync, synchronous_commit and full_page_writes: fine for tests, wrong for data you keep.
    `wait_ready()` also creates the database and applies the migrations when `migrate=True`.
    """

    def __init__(
        self,
        base_dir: Path | None = None,
        *,
        fast: bool = True,
        migrate: bool = True,
        ready_timeout: float = 30.0,
    ) -> None:
        self._owns_base_dir = base_dir is None
        # mkdtemp, not a test's tmp_path: as root the server user must traverse the parents,
        # and the system temp dir (sticky, world-searchable) is a parent it can always pass.
        self.base_dir = (base_dir or Path(tempfile.mkdtemp(prefix="regpipe-pg-"))).resolve()
        self._fast = fast
        self._migrate = migrate
        self._ready_timeout = ready_timeout
        self._bin = find_pg_bin()
        self.port = free_port()
        self._started = False

    @property
    def dsn(self) -> str:
        """`postgresql://regpipe@127.0.0.1:<port>/regpipe` (trust auth: no password)."""
        return f"postgresql://{_USER}@127.0.0.1:{self.port}/{_DATABASE}"

    @property
    def admin_dsn(self) -> str:
        """The DSN of the always-present `postgres` database, e.g. to create more databases."""
        return f"postgresql://{_USER}@127.0.0.1:{self.port}/postgres"

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        """The server log."""
        return self.base_dir / "postgres.log"

    def start(self) -> None:
        """Create the cluster on first use and start the server (pg_ctl waits until it accepts)."""
        if self._started:
            raise StackError(f"PostgreSQL is already running on port {self.port}")
        socket_dir = self.base_dir / "socket"
        socket_dir.mkdir(parents=True, exist_ok=True)
        self._hand_over(self.base_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            self._run_tool("initdb", "-D", str(self.data_dir), "-A", "trust", "-U", _USER, "-E", "UTF8")
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-k {socket_dir}"]
        if self._fast:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run_tool(
            "pg_ctl",
            "start",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            str(int(self._ready_timeout)),
            "-o",
            " ".join(options),
        )
        self._started = True

    async def wait_ready(self) -> None:
        """Connect for real, create the `regpipe` database if missing, apply migrations."""
        deadline = time.monotonic() + self._ready_timeout
        last_error: BaseException | None = None
        while time.monotonic() < deadline:
            try:
                connection = await asyncpg.connect(self.admin_dsn, timeout=5)
            except (OSError, asyncpg.PostgresError, TimeoutError) as error:
                last_error = error  # still starting up (e.g. "the database system is starting up")
                await asyncio.sleep(0.2)
                continue
            try:
                exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", _DATABASE)
                if not exists:
                    await connection.execute(f'CREATE DATABASE "{_DATABASE}"')
            finally:
                await connection.close()
            if self._migrate:
                await apply_migrations(self.dsn)
            return
        raise ServerStartError(
            f"PostgreSQL on port {self.port} not ready (last error: {last_error!r})\n"
            f"--- log tail ---\n{log_tail(self.log_file)}"
        )

    def stop(self) -> None:
        """`pg_ctl stop -m fast`; removes the temp dir when this object created it."""
        if self._started:
            self._run_tool("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w", error=StackError)
            self._started = False
        if self._owns_base_dir and self.base_dir.exists():
            shutil.rmtree(self.base_dir)

    def _hand_over(self, path: Path) -> None:
        """As root, give the server's folder to the `postgres` user (initdb refuses root)."""
        if os.geteuid() != 0:
            return
        try:
            require_traversable(path, _SERVICE_USER)
            shutil.chown(path, user=_SERVICE_USER, group=_SERVICE_USER)
            for entry in path.rglob("*"):
                shutil.chown(entry, user=_SERVICE_USER, group=_SERVICE_USER)
        except LookupError as error:
            raise StackError(
                f"running as root needs the `{_SERVICE_USER}` system user: run scripts/bootstrap.sh"
            ) from error

    def _run_tool(self, tool: str, *args: str, error: type[StackError] = ServerStartError) -> None:
        command = [str(self._bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", _SERVICE_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=self.base_dir)
        if result.returncode != 0:
            raise error(
                f"`{tool} {' '.join(args)}` failed (exit {result.returncode}):\n"
                f"{(result.stdout + result.stderr)[-3000:]}\n--- log tail ---\n{log_tail(self.log_file)}"
            )
