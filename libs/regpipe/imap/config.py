"""What the IMAP library needs to know: how to reach and log in to the server, and what to do with a mailbox.

Plain dataclasses, filled by a service from its settings (the library never reads the environment).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from regpipe.imap.errors import ImapConfigError

__all__ = ["ImapConfig", "MailboxPolicy", "MarkMode", "Security"]

_DEFAULT_PORTS = {"imaps": 993, "starttls": 143, "plain": 143}
# Folder names go on the command line quoted: no controls, and ASCII only (no modified UTF-7 encoder here).
_FOLDER = re.compile(r"[\x20-\x7e]+")
# A keyword is an IMAP atom: no spaces, parentheses, braces, wildcards, quotes, backslashes or brackets.
_KEYWORD = re.compile(r"\$?[A-Za-z0-9_.\-]+")


class Security(StrEnum):
    """How the connection is protected."""

    IMAPS = "imaps"  # TLS from the first byte (port 993)
    STARTTLS = "starttls"  # plain connect, then STARTTLS before LOGIN; refuses servers that do not offer it
    PLAIN = "plain"  # no TLS at all: only with `allow_plain`, for local test servers


class MarkMode(StrEnum):
    """What happens to a message once its raw record is on Kafka."""

    MOVE = "move"  # UID MOVE to the processed folder (COPY + \\Deleted + UID EXPUNGE where MOVE is missing)
    FLAG = "flag"  # leave it in place with the processed keyword set


@dataclass(frozen=True, slots=True)
class ImapConfig:
    """How to reach and log in to one IMAP account."""

    host: str
    username: str
    password: str = field(repr=False)
    security: Security = Security.IMAPS
    port: int | None = None  # None: 993 for IMAPS, 143 otherwise
    ca_file: Path | None = None  # trust only this CA (tests, private CAs); None: the system's trust store
    allow_plain: bool = False
    timeout_s: float = 30.0  # per command and for connecting
    # Capabilities to treat as absent (e.g. IDLE behind a proxy that drops idle connections, or in tests).
    ignore_capabilities: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.security is Security.PLAIN and not self.allow_plain:
            raise ImapConfigError(
                f"plain IMAP to {self.host} sends the password unencrypted: use imaps or starttls, "
                "or allow plain explicitly (local test servers only)"
            )
        if not self.username or "\r" in self.username or "\n" in self.username:
            raise ImapConfigError("the IMAP user name must be one non-empty line")
        if self.timeout_s <= 0:
            raise ImapConfigError(f"timeout_s must be positive, got {self.timeout_s}")

    @property
    def effective_port(self) -> int:
        """The port to connect to."""
        return self.port if self.port is not None else _DEFAULT_PORTS[self.security.value]

    @property
    def account(self) -> str:
        """`<user>@<host>`: names the mailbox in leases, logs and metrics."""
        return f"{self.username}@{self.host}"


@dataclass(frozen=True, slots=True)
class MailboxPolicy:
    """Which folder to read, where processed and ignored mail goes, and how to wait for new mail."""

    mailbox: str = "INBOX"
    processed_folder: str = "Processed"
    ignored_folder: str | None = None  # None: mail that is no notification is left where it is, untouched
    # Notifications that cannot be published (over `max_message_bytes`, or unreadable) go here once, never deleted.
    rejected_folder: str = "Rejected"
    mark: MarkMode = MarkMode.MOVE
    processed_keyword: str = "$RegpipeProcessed"
    use_idle: bool = True
    idle_renew_s: float = 25 * 60  # servers drop IDLE after 30 min (RFC 2177): re-issue it before
    poll_interval_s: float = 30.0  # when the server has no IDLE (or `use_idle` is off)
    batch_size: int = 20  # messages fetched, published and moved together
    # Below the raw topic's max.message.bytes (1 MiB) with room for the seal and headers, as the webhook cap.
    max_message_bytes: int = 900_000
    identify_timeout_s: float = 20.0  # reading one mail for its event id may take this long (worker thread)

    def __post_init__(self) -> None:
        for name in (self.mailbox, self.processed_folder, self.ignored_folder, self.rejected_folder):
            if name is not None and not _FOLDER.fullmatch(name):
                raise ImapConfigError(f"folder name {name!r} must be printable ASCII")
        folders = {self.mailbox.upper()}
        for name in (self.processed_folder, self.ignored_folder, self.rejected_folder):
            if name is not None and name.upper() in folders:
                raise ImapConfigError(
                    f"folder {name!r} is used twice (mailbox, processed, ignored, rejected must differ)"
                )
            if name is not None:
                folders.add(name.upper())
        if not _KEYWORD.fullmatch(self.processed_keyword):
            raise ImapConfigError(f"processed keyword {self.processed_keyword!r} is not an IMAP atom")
        if min(self.batch_size, self.poll_interval_s, self.idle_renew_s, self.identify_timeout_s) <= 0:
            raise ImapConfigError("batch_size, poll_interval_s, idle_renew_s and identify_timeout_s must be positive")
        if self.max_message_bytes < 1:
            raise ImapConfigError("max_message_bytes must be positive")
