"""The real IMAP parser service as a subprocess against a mailbox holding mail it cannot publish (issue 12): mail
over the broker's limit and mail that breaks the e-mail libraries. Before, one such mail ended the process (a crash
loop reading it again at every start) or was retried for ever; now each is moved once to the rejected folder and
the notifications around it are published, with the service running on."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import regpipe.kafka
from regpipe.simulators.opensrs.events import generate_events
from regpipe.simulators.opensrs.mail import deliver, notification_mail
from regpipe.stack.dovecot import DovecotServer
from tests.conditions import eventually_async
from tests.imap.mailboxes import new_mailbox, stored
from tests.kafka_io import RawTail
from tests.service_process import ServiceUnderTest

pytestmark = pytest.mark.integration


def _nested_messages(event_id: str, depth: int = 3000) -> bytes:
    # message/rfc822 parts nested past the e-mail package's recursion limit.
    inner = b'Content-Type: text/plain\r\n\r\n{"event_id": "' + event_id.encode() + b'"}\r\n'
    for _ in range(depth):
        inner = b"Content-Type: message/rfc822\r\n\r\n" + inner
    return b"Subject: Event notification: DOMAIN: DELETED: " + event_id.encode() + b"\r\n" + inner


async def test_mail_that_cannot_be_published_is_set_aside_and_the_service_runs_on(
    imap_server: DovecotServer, kafka_bootstrap: str, pg_dsn: str, tmp_path: Path
) -> None:
    await regpipe.kafka.ensure_topics(kafka_bootstrap)
    mailbox = new_mailbox(imap_server, "poison")
    good = [notification_mail(event) for event in generate_events(random.Random(61), 20)]
    huge = notification_mail(generate_events(random.Random(62), 1)[0]).replace(
        b"\r\n\r\n", b"\r\n\r\n" + b"z" * 1_200_000 + b"\r\n", 1
    )
    too_large = [huge, huge.replace(b"z" * 10, b"w" * 10, 1)]
    await deliver(mailbox, [*good[:10], *too_large, _nested_messages("poison-nested"), *good[10:]])
    env = {
        "IMAP_HOST": imap_server.host,
        "IMAP_PORT": str(imap_server.port),
        "IMAP_SECURITY": "plain",
        "IMAP_ALLOW_PLAIN": "true",
        "IMAP_USERNAME": mailbox.username,
        "IMAP_PASSWORD": mailbox.password,
        "IMAP_BATCH_SIZE": "5",
        "IMAP_BACKOFF_INITIAL_S": "0.1",
        "IMAP_BACKOFF_MAX_S": "1",
        # Above what the producer can send (1 MiB requests): the broker's limit is what refuses them.
        "IMAP_MAX_MESSAGE_BYTES": "1000000",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "POSTGRES_DSN": pg_dsn,
        "LEASE_RETRY_INTERVAL_S": "0.2",
        "LEASE_TTL_S": "10",
        "LEASE_CHECK_INTERVAL_S": "0.5",
    }
    service = ServiceUnderTest("imap_parser", env, tmp_path)
    async with RawTail(kafka_bootstrap, mailbox.username) as raw:
        service.start()
        try:

            async def inbox_empty() -> bool:
                assert service.returncode is None, service.log[-3000:]  # before the fix: it ended, or looped
                return await stored(mailbox) == []

            await eventually_async(inbox_empty, "every mail handled")
            await raw.wait_for(len(good))
            assert service.returncode is None
        finally:
            exit_code = service.stop()
        await raw.drain()
    assert exit_code == 0, service.log[-3000:]
    published = {record.value for record in raw.records}
    assert set(good) <= published
    assert not published & set(too_large)
    rejected = {message.data for message in await stored(mailbox, "Rejected")}
    assert rejected >= set(too_large)  # kept, byte for byte, never deleted
    # The nested mail is either set aside as unreadable or published for the normalizer to quarantine: never lost.
    nested = _nested_messages("poison-nested")
    assert (nested in rejected) != (nested in published)
    assert "z" * 100 not in service.log  # set aside without its content in the log
