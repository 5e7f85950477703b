"""Runs a real service as a subprocess for kill tests: `python -m regpipe.services.<name>` with its env."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import orjson


class ServiceUnderTest:
    """A service process whose output goes to a log file; `kill()` is SIGKILL, `stop()` is SIGTERM."""

    def __init__(self, service: str, env: dict[str, str], log_dir: Path) -> None:
        self._module = f"regpipe.services.{service}"
        self._env = {**os.environ, "LOG_LEVEL": "INFO", "HEALTH_PORT": "0", **env}
        self._log_path = log_dir / f"{service}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> str:
        """Every complete line the process printed so far: a line still being written is left for the next read."""
        text = self._log_path.read_text(errors="replace") if self._log_path.exists() else ""
        return text[: text.rfind("\n") + 1]

    def log_lines(self, event: str) -> list[dict[str, Any]]:
        """The JSON log lines printed so far whose message (`event`) is `event`, parsed (other lines skipped)."""
        lines = (line for line in self.log.splitlines() if line.startswith("{"))
        return [entry for entry in map(orjson.loads, lines) if entry.get("event") == event]

    @property
    def returncode(self) -> int | None:
        """The exit code, or None while running."""
        return None if self._proc is None else self._proc.poll()

    def start(self) -> None:
        """Launch (again)."""
        with self._log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", self._module], env=self._env, stdout=log, stderr=subprocess.STDOUT
            )

    def kill(self) -> None:
        """SIGKILL: no chance to finish anything."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait(timeout=10)

    def stop(self, timeout_s: float = 30) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not exit in time."""
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        return self._proc.returncode

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
