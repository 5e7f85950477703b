"""The private Dovecot server stores mail for real, over plain IMAP and over TLS with the test CA."""

from __future__ import annotations

import asyncio
import imaplib
import ssl
import uuid
from email.message import EmailMessage

import pytest

from regpipe.stack.dovecot import DovecotServer, ImapUser

pytestmark = pytest.mark.integration


def _message(subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = "registrar@example.test"
    message["To"] = "events@example.test"
    message["Subject"] = subject
    message.set_content("Domain example.test was renewed.")
    return message.as_bytes()


def _append_and_fetch(client: imaplib.IMAP4, user: ImapUser, subject: str) -> bytes:
    client.login(user.username, user.password)
    status, _ = client.append("INBOX", None, None, _message(subject))
    assert status == "OK"
    client.select("INBOX")
    status, found = client.search(None, "SUBJECT", f'"{subject}"')
    assert status == "OK"
    [number] = found[0].split()
    status, fetched = client.fetch(number.decode(), "(RFC822)")
    assert status == "OK"
    client.logout()
    first = fetched[0]
    assert isinstance(first, tuple)
    return first[1]


def _plain(server: DovecotServer, user: ImapUser, subject: str) -> bytes:
    return _append_and_fetch(imaplib.IMAP4(server.host, server.port, timeout=10), user, subject)


def _tls(server: DovecotServer, user: ImapUser, subject: str) -> bytes:
    assert server.ssl_port is not None
    assert server.ca_file is not None
    context = ssl.create_default_context(cafile=str(server.ca_file))
    client = imaplib.IMAP4_SSL(server.host, server.ssl_port, ssl_context=context, timeout=10)
    return _append_and_fetch(client, user, subject)


async def test_append_then_fetch_over_plain_imap(imap_server: DovecotServer) -> None:
    subject = f"plain {uuid.uuid4().hex}"

    raw = await asyncio.to_thread(_plain, imap_server, imap_server.default_user, subject)

    assert f"Subject: {subject}".encode() in raw


async def test_append_then_fetch_over_tls_trusting_the_test_ca(imap_server: DovecotServer) -> None:
    subject = f"tls {uuid.uuid4().hex}"

    raw = await asyncio.to_thread(_tls, imap_server, imap_server.default_user, subject)

    assert f"Subject: {subject}".encode() in raw


async def test_tls_without_the_test_ca_is_refused(imap_server: DovecotServer) -> None:
    assert imap_server.ssl_port is not None
    context = ssl.create_default_context()  # system CAs only

    with pytest.raises(ssl.SSLCertVerificationError):
        await asyncio.to_thread(
            imaplib.IMAP4_SSL, imap_server.host, imap_server.ssl_port, ssl_context=context, timeout=10
        )


async def test_added_user_logs_in_at_once_and_has_a_separate_mailbox(imap_server: DovecotServer) -> None:
    user = imap_server.add_user(f"extra-{uuid.uuid4().hex[:6]}@example.test")
    subject = f"extra {uuid.uuid4().hex}"

    raw = await asyncio.to_thread(_plain, imap_server, user, subject)

    assert f"Subject: {subject}".encode() in raw
    assert imap_server.users[user.username] == user


async def test_wrong_password_is_rejected(imap_server: DovecotServer) -> None:
    wrong = ImapUser(imap_server.default_user.username, "not-the-password")

    with pytest.raises(imaplib.IMAP4.error):
        await asyncio.to_thread(_plain, imap_server, wrong, "never stored")
