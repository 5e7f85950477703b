"""Service processes of the local demo: each service runs as `python -m regpipe.services.<name>` with its env."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

__all__ = ["ServiceProcess"]


def _with_parent_death_signal(command: list[str]) -> list[str]:
    """`command`, made to receive SIGTERM if the demo dies without stopping it (util-linux `setpriv`)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", *command] if setpriv else command


@dataclass
class ServiceProcess:
    """One running service; stdout and stderr go to `<log_dir>/<name>.log`."""

    name: str
    module: str
    env: dict[str, str]
    log_dir: Path
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _log: IO[bytes] | None = field(default=None, init=False)

    @property
    def log_path(self) -> Path:
        """Where the service's JSON logs go."""
        return self.log_dir / f"{self.name}.log"

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Launch the service with the parent's environment plus its own variables."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            _with_parent_death_signal([sys.executable, "-m", self.module]),
            env={**os.environ, **self.env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl+C in the terminal reaches the demo, which then stops us in order
        )

    def stop(self, timeout_s: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout_s`; returns the exit code."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
        return proc.returncode
