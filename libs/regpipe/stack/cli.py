"""`regpipe-stack`: fetch the Kafka jars, run the local stack in the foreground, print its endpoints.

regpipe-stack fetch-kafka
regpipe-stack up [--state-dir .stack] [--no-kafka] [--no-postgres] [--no-imap] [--reset]
regpipe-stack env [--state-dir .stack]      # eval "$(regpipe-stack env)"
"""

from __future__ import annotations

import os
import shlex
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import NoReturn

import typer

from regpipe.stack.errors import StackError
from regpipe.stack.kafka_dist import KAFKA_VERSION, fetch_kafka
from regpipe.stack.stack import LocalStack, StackEndpoints

__all__ = ["app", "main"]

app = typer.Typer(help="Run the real local stack (Kafka, PostgreSQL, Dovecot IMAP) without Docker.")

_STATE_DIR = typer.Option(Path(".stack"), "--state-dir", help="Folder for the servers' data and stack.json.")


@app.command("fetch-kafka")
def fetch_kafka_command() -> None:
    """Download the Kafka broker jars into the cache (once; later calls return at once)."""
    try:
        home = fetch_kafka()
    except StackError as error:
        _fail(error)
    typer.echo(f"Kafka {KAFKA_VERSION} jars in {home / 'libs'}")


@app.command()
def up(
    state_dir: Path = _STATE_DIR,
    kafka: bool = typer.Option(True, "--kafka/--no-kafka", help="Run the Kafka broker."),
    postgres: bool = typer.Option(True, "--postgres/--no-postgres", help="Run PostgreSQL."),
    imap: bool = typer.Option(True, "--imap/--no-imap", help="Run the Dovecot IMAP server."),
    reset: bool = typer.Option(False, "--reset", help="Wipe the servers' data before starting."),
) -> None:
    """Start the stack, print its endpoints as JSON, and run until SIGINT or SIGTERM."""
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    # Handlers first: a Ctrl+C during start-up then still stops what was already started.
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    stack = LocalStack(state_dir, kafka=kafka, postgres=postgres, imap=imap, reset=reset)
    try:
        endpoints = stack.start()
    except StackError as error:
        _fail(error)
    try:
        typer.echo(endpoints.to_json(), nl=False)
        typer.echo(f"stack is up; endpoints in {stack.state_dir / 'stack.json'}; Ctrl+C stops it", err=True)
        while not stop_requested.wait(timeout=1.0):
            pass
        typer.echo("stopping the stack", err=True)
    finally:
        stack.stop()


@app.command()
def env(state_dir: Path = _STATE_DIR) -> None:
    """Print `export NAME=value` lines for the running stack's endpoints."""
    try:
        endpoints = StackEndpoints.read(state_dir)
    except StackError as error:
        _fail(error)
    if not _alive(endpoints.pid):
        typer.echo(f"warning: the stack's process {endpoints.pid} is not running", err=True)
    for name, value in endpoints.environment().items():
        typer.echo(f"export {name}={shlex.quote(value)}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it is just someone else's
    return True


def _fail(error: StackError) -> NoReturn:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(code=1)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
