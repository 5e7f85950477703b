"""Test support: fresh mailboxes on the session's Dovecot, and what their folders hold.

Folder contents are read with the standard library's IMAP client (not the parser's own), so the tests check the
parser against an independent reader.
"""

from __future__ import annotations

import asyncio
import imaplib
import re
import uuid
from dataclasses import dataclass

from regpipe.imap.config import ImapConfig, Security
from regpipe.simulators.opensrs.mail import MailboxTarget
from regpipe.stack.dovecot import DovecotServer

_UID = re.compile(rb"UID (\d+)")
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One message as the server stores it."""

    uid: int
    data: bytes
    flags: frozenset[str]


def new_mailbox(server: DovecotServer, prefix: str = "parser") -> MailboxTarget:
    """A new user with an empty INBOX, reachable on the plain port."""
    user = server.add_user(f"{prefix}-{uuid.uuid4().hex[:10]}@example.test")
    return MailboxTarget(host=server.host, port=server.port, username=user.username, password=user.password)


def imap_config(
    server: DovecotServer,
    mailbox: MailboxTarget,
    *,
    security: Security = Security.PLAIN,
    password: str | None = None,
    ignore: frozenset[str] = frozenset(),
    timeout_s: float = 10.0,
) -> ImapConfig:
    """The parser's configuration for `mailbox` (plain port unless IMAPS or STARTTLS is asked for)."""
    port = server.ssl_port if security is Security.IMAPS else server.port
    return ImapConfig(
        host=server.host,
        port=port,
        username=mailbox.username,
        password=mailbox.password if password is None else password,
        security=security,
        ca_file=server.ca_file,
        allow_plain=security is Security.PLAIN,
        timeout_s=timeout_s,
        ignore_capabilities=ignore,
    )


async def stored(mailbox: MailboxTarget, folder: str = "INBOX") -> list[StoredMessage]:
    """Every message of `folder` (none when the folder does not exist), oldest first, read without side effects."""
    return await asyncio.to_thread(_stored_sync, mailbox, folder)


def _stored_sync(mailbox: MailboxTarget, folder: str) -> list[StoredMessage]:
    with imaplib.IMAP4(mailbox.host, mailbox.port, timeout=10) as client:
        client.login(mailbox.username, mailbox.password)
        status, _ = client.select(f'"{folder}"', readonly=True)
        if status != "OK":
            return []
        status, data = client.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
        messages: list[StoredMessage] = []
        for item in data:
            if not isinstance(item, tuple):
                continue
            head, body = item
            uid = _UID.search(head)
            flags = _FLAGS.search(head)
            assert uid is not None, head
            messages.append(
                StoredMessage(
                    uid=int(uid.group(1)),
                    data=body,
                    flags=frozenset(flags.group(1).decode().split()) if flags else frozenset(),
                )
            )
        client.logout()
    return sorted(messages, key=lambda message: message.uid)
