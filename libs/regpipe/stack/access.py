"""Checks that a system user can reach a folder, to fail early with a clear message.

As root the stack runs PostgreSQL and Dovecot's mail processes as unprivileged system users;
they need search (x) permission on every parent of their folder, which a 0700 temp dir denies.
"""

from __future__ import annotations

import pwd
import stat
from pathlib import Path

from regpipe.stack.errors import StackError

__all__ = ["require_traversable"]


def require_traversable(folder: Path, user: str) -> None:
    """Raise `StackError` unless `user` can search every existing parent folder of `folder`."""
    entry = pwd.getpwnam(user)
    for parent in folder.resolve().parents:
        info = parent.stat()
        if info.st_uid == entry.pw_uid:
            allowed = bool(info.st_mode & stat.S_IXUSR)
        elif info.st_gid == entry.pw_gid:
            allowed = bool(info.st_mode & stat.S_IXGRP)
        else:
            allowed = bool(info.st_mode & stat.S_IXOTH)
        if not allowed:
            raise StackError(
                f"the `{user}` user cannot reach {folder}: {parent} is mode "
                f"{stat.filemode(info.st_mode)}; use a folder below a world-searchable one "
                "(e.g. the default temp dir, or the stack's state dir in the work tree)"
            )
