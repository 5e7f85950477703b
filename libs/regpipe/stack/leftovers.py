"""Finding and stopping the servers a previous run left behind when it was killed (SIGKILL leaves no cleanup).

Every server the stack starts names a path under the stack's state dir on its command line (Kafka its
`server.properties`, PostgreSQL its data dir, Dovecot its config), so a process is ours exactly when one of its
arguments points into that dir: no pid file is needed, and nothing else on the machine is touched.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

__all__ = ["find_leftovers", "stop_leftovers"]


def _arguments(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # gone meanwhile, or not ours to read
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def find_leftovers(state_dir: Path) -> list[int]:
    """Pids of live processes (other than this one) whose command line names a path inside `state_dir`."""
    prefix = str(state_dir.resolve()) + os.sep
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        if any(prefix in argument for argument in _arguments(int(entry.name))):
            found.append(int(entry.name))
    return sorted(found)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie has exited already; only its parent's wait is missing.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def stop_leftovers(state_dir: Path, *, grace_s: float = 20.0) -> list[int]:
    """SIGTERM the leftovers of `state_dir`, SIGKILL those still alive after `grace_s`; returns their pids."""
    pids = find_leftovers(state_dir)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + grace_s
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids:
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
    return pids
