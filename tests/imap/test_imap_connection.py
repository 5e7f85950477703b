"""Connecting to the real Dovecot: IMAPS and STARTTLS with the test CA, plain only when allowed, clear errors."""

from __future__ import annotations

import asyncio
import subprocess
import time

import pytest

from regpipe.imap.config import ImapConfig, Security
from regpipe.imap.connection import ImapConnection
from regpipe.imap.errors import ImapAuthError, ImapCommandError, ImapConnectionError, ImapTlsError
from regpipe.stack.dovecot import DovecotServer
from regpipe.stack.ports import free_ports
from tests.conditions import eventually
from tests.imap.mailboxes import imap_config, new_mailbox

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("security", [Security.IMAPS, Security.STARTTLS])
async def test_tls_connections_trust_the_configured_ca(imap_server: DovecotServer, security: Security) -> None:
    mailbox = new_mailbox(imap_server)
    connection = await ImapConnection.open(imap_config(imap_server, mailbox, security=security))
    try:
        assert connection.tls_version in {"TLSv1.2", "TLSv1.3"}
        assert connection.has("IDLE")
        assert connection.has("MOVE")
        assert await connection.select("INBOX") > 0
    finally:
        await connection.close()


async def test_plain_connection_when_allowed(imap_server: DovecotServer) -> None:
    connection = await ImapConnection.open(imap_config(imap_server, new_mailbox(imap_server)))
    try:
        assert connection.tls_version is None
        await connection.select("INBOX")
        assert await connection.search("ALL") == []
    finally:
        await connection.close()


async def test_a_server_certificate_from_an_unknown_ca_is_refused(imap_server: DovecotServer) -> None:
    mailbox = new_mailbox(imap_server)
    config = imap_config(imap_server, mailbox, security=Security.IMAPS)
    untrusting = ImapConfig(
        host=config.host, port=config.port, username=config.username, password=config.password, ca_file=None
    )
    with pytest.raises(ImapTlsError, match="certificate verify failed"):
        await ImapConnection.open(untrusting)


async def test_wrong_password_is_an_auth_error(imap_server: DovecotServer) -> None:
    mailbox = new_mailbox(imap_server)
    with pytest.raises(ImapAuthError, match=f"refused for {mailbox.username}") as caught:
        await ImapConnection.open(imap_config(imap_server, mailbox, password="not-the-password"))
    assert not caught.value.retriable
    assert "not-the-password" not in str(caught.value)


async def test_nothing_listening_is_a_retriable_connection_error(imap_server: DovecotServer) -> None:
    (port,) = free_ports(1)
    config = ImapConfig(
        host="127.0.0.1", port=port, username="u", password="p", security=Security.PLAIN, allow_plain=True
    )
    with pytest.raises(ImapConnectionError, match="cannot connect") as caught:
        await ImapConnection.open(config)
    assert caught.value.retriable
    assert not isinstance(caught.value, ImapTlsError)


async def test_selecting_a_missing_folder_is_a_command_error(imap_server: DovecotServer) -> None:
    connection = await ImapConnection.open(imap_config(imap_server, new_mailbox(imap_server)))
    try:
        with pytest.raises(ImapCommandError, match="SELECT NoSuchFolder answered NO"):
            await connection.select("NoSuchFolder")
    finally:
        await connection.close()


async def test_create_folder_is_idempotent(imap_server: DovecotServer) -> None:
    connection = await ImapConnection.open(imap_config(imap_server, new_mailbox(imap_server)))
    try:
        await connection.create_folder("Processed")
        await connection.create_folder("Processed")
        assert await connection.select("Processed") > 0
    finally:
        await connection.close()


async def test_a_dropped_connection_ends_idle_at_once(imap_server: DovecotServer) -> None:
    mailbox = new_mailbox(imap_server)
    connection = await ImapConnection.open(imap_config(imap_server, mailbox))
    try:
        await connection.select("INBOX")
        idling = asyncio.create_task(connection.wait_for_news(60))
        # Kick once IDLE was sent (a condition, not a pause); the client library says when its IDLE is pending.
        await eventually(lambda: connection._client.has_pending_idle(), "IDLE sent")
        kicked_at = time.monotonic()
        await asyncio.to_thread(
            subprocess.run,
            ["doveadm", "-c", str(imap_server.config_file), "kick", mailbox.username],
            check=True,
            capture_output=True,
        )
        with pytest.raises(ImapConnectionError, match=r"lost (while idling|during IDLE)"):
            await asyncio.wait_for(idling, timeout=50)
        # "At once" means: long before the 60 s IDLE would have ended by itself (the kick and its detection can take
        # seconds on a loaded machine, so no tighter bound).
        assert time.monotonic() - kicked_at < 30
    finally:
        await connection.close()


async def test_starttls_is_required_when_asked_for() -> None:
    """A server (or a man in the middle) that does not offer STARTTLS never sees the password."""
    received: list[bytes] = []

    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n")
        await writer.drain()
        while line := await reader.readline():
            received.append(line)
            tag = line.split(b" ", 1)[0]
            if b"CAPABILITY" in line.upper():
                writer.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
            else:
                writer.write(tag + b" OK whatever\r\n")
            await writer.drain()

    server = await asyncio.start_server(greet, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        config = ImapConfig(host="127.0.0.1", port=port, username="u", password="pw", security=Security.STARTTLS)
        with pytest.raises(ImapTlsError, match="does not offer STARTTLS"):
            await ImapConnection.open(config)
    finally:
        server.close()
        await server.wait_closed()
    assert not any(b"LOGIN" in line.upper() or b"pw" in line for line in received)
