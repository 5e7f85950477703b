"""Errors of the IMAP ingestion library; the tree is drawn in the package docstring (`regpipe.imap`)."""

from __future__ import annotations

__all__ = [
    "ImapAuthError",
    "ImapCommandError",
    "ImapConfigError",
    "ImapConnectionError",
    "ImapError",
    "ImapTlsError",
]


class ImapError(Exception):
    """Base of every IMAP library error; `retriable` says whether reconnecting later may help."""

    retriable: bool = False


class ImapConfigError(ImapError):
    """Settings that cannot work: plain IMAP not explicitly allowed, an unusable folder name, a missing CA file."""


class ImapAuthError(ImapError):
    """The server refused the credentials: retrying with the same user and password cannot help."""


class ImapConnectionError(ImapError):
    """No usable connection: refused, reset, timed out, or lost mid-command."""

    retriable = True


class ImapTlsError(ImapConnectionError):
    """TLS could not be set up: handshake or certificate verification failed, or STARTTLS is not offered."""


class ImapCommandError(ImapError):
    """The server answered NO or BAD to a command the parser needs (e.g. SELECT, MOVE): retried after a pause."""

    retriable = True

    def __init__(self, command: str, result: str, text: str) -> None:
        super().__init__(f"IMAP {command} answered {result}: {text}")
        self.command = command
        self.result = result
        self.text = text
