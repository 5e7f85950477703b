"""A run killed with SIGKILL leaves its servers running; the next start of the same stack stops them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from regpipe.stack.leftovers import find_leftovers, stop_leftovers
from regpipe.stack.stack import ENDPOINTS_FILE, LocalStack

_SLEEPER = "import time; time.sleep(300)"


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # Not tmp_path: as root, PostgreSQL and Dovecot's mail user must be able to enter the folder.
    folder = Path(tempfile.mkdtemp(prefix="regpipe-leftovers-"))
    folder.chmod(0o755)
    yield folder / ".stack"
    shutil.rmtree(folder, ignore_errors=True)


def _wait_until(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_only_processes_naming_the_state_dir_are_stopped(state_dir: Path, tmp_path: Path) -> None:
    state_dir.mkdir(parents=True)
    ours = subprocess.Popen([sys.executable, "-c", _SLEEPER, str(state_dir / "kafka" / "server.properties")])
    other = subprocess.Popen([sys.executable, "-c", _SLEEPER, str(tmp_path / "elsewhere")])
    try:
        assert find_leftovers(state_dir) == [ours.pid]
        assert stop_leftovers(state_dir, grace_s=10) == [ours.pid]
        assert ours.wait(timeout=10) == -signal.SIGTERM
        assert other.poll() is None
    finally:
        for process in (ours, other):
            process.kill()
            process.wait()


@pytest.mark.integration
def test_servers_of_a_killed_run_are_stopped_by_the_next_start(state_dir: Path) -> None:
    # PostgreSQL and Dovecot (Kafka's start is covered by its own tests and takes longer).
    run = subprocess.Popen(
        [sys.executable, "-m", "regpipe.stack.cli", "up", "--state-dir", str(state_dir), "--no-kafka"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until(lambda: (state_dir / ENDPOINTS_FILE).exists())
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        left = find_leftovers(state_dir)
        assert left, "the killed run's servers should still be running"

        stack = LocalStack(state_dir, kafka=False, reset=True)
        assert set(left) <= set(stack.leftovers)
        _wait_until(lambda: not find_leftovers(state_dir), timeout_s=30)
        with stack:
            assert stack.endpoints.postgres_dsn is not None
        assert not find_leftovers(state_dir)
    finally:
        stop_leftovers(state_dir, grace_s=5)
