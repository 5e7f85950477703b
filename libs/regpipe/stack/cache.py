"""Where downloaded artefacts live between runs, and a lock so concurrent runs fetch them once."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["default_cache_dir", "file_lock"]

CACHE_DIR_ENV = "REGPIPE_CACHE_DIR"


def default_cache_dir() -> Path:
    """`$REGPIPE_CACHE_DIR`, else `~/.cache/regpipe`: outside the work tree so clones share it."""
    configured = os.environ.get(CACHE_DIR_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "regpipe"


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path` (created if missing) for the `with` block.

    flock is released by the kernel when the process dies, so a crashed download never
    leaves a stale lock behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
