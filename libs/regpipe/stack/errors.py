"""Exceptions raised by the local stack, one tree for the whole package.

StackError            anything the stack could not do
├── DownloadError     fetching the Kafka jars (or another artefact) failed
└── ServerStartError  a server did not start or did not become ready in time
"""

from __future__ import annotations

__all__ = ["DownloadError", "ServerStartError", "StackError"]


class StackError(Exception):
    """Base class: the local stack could not do what was asked."""


class DownloadError(StackError):
    """Fetching the server artefacts failed; a retry may succeed once the cause is fixed."""


class ServerStartError(StackError):
    """A server did not start, exited early, or did not become ready before its deadline.

    The message carries the tail of the server's log so the cause is visible in a test report.
    """
