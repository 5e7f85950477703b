"""Mail that cannot be identified or published (issue 12) against the real Dovecot and Kafka: it is moved to the
rejected folder once, counted, and the mail around it flows; nothing is deleted and nothing is retried for ever."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator

import pytest
import structlog
from prometheus_client import REGISTRY

import regpipe.kafka
from regpipe.contract.taxonomy import Source, Transport
from regpipe.imap.config import MailboxPolicy
from regpipe.imap.connection import ImapConnection
from regpipe.imap.ingestor import MailboxIngestor, MailIdentity, ScanReport
from regpipe.ingest.publisher import RawPublisher
from regpipe.kafka.producer import create_producer
from regpipe.providers.opensrs.email import NotificationMailClassifier
from regpipe.simulators.opensrs.events import generate_events
from regpipe.simulators.opensrs.mail import MailboxTarget, deliver, notification_mail
from regpipe.stack.dovecot import DovecotServer
from tests.imap.mailboxes import imap_config, new_mailbox, stored
from tests.kafka_io import RawTail

pytestmark = pytest.mark.integration


@pytest.fixture
async def publisher(kafka_bootstrap: str) -> AsyncIterator[RawPublisher]:
    await regpipe.kafka.ensure_topics(kafka_bootstrap)
    producer = create_producer(kafka_bootstrap, client_id="imap-poison-test")
    await producer.start()
    try:
        yield RawPublisher(producer)
    finally:
        await producer.stop()


def _ingestor(publisher: RawPublisher, mailbox: MailboxTarget, **policy: object) -> MailboxIngestor:
    return MailboxIngestor(
        policy=MailboxPolicy(**policy),  # type: ignore[arg-type]
        publisher=publisher,
        classifier=NotificationMailClassifier(),
        source=Source.OPENSRS,
        account=mailbox.username,
    )


async def _scan(server: DovecotServer, mailbox: MailboxTarget, ingestor: MailboxIngestor) -> ScanReport:
    connection = await ImapConnection.open(imap_config(server, mailbox))
    try:
        await ingestor.prepare(connection)
        return await ingestor.scan(connection)
    finally:
        await connection.close()


def _rejected(reason: str) -> float:
    labels = {"source": "opensrs", "transport": "email", "reason": reason}
    return REGISTRY.get_sample_value("regpipe_ingest_rejected_total", labels) or 0.0


class _BreaksOnPoison:
    """The OpenSRS classifier, except that it raises on mail marked poison: whatever a future parser bug raises,
    the ingestor must set that one mail aside (the real classifier's own hostile cases are in `test_email_hostile`)."""

    def __init__(self) -> None:
        self._real = NotificationMailClassifier()

    def wants(self, header: bytes) -> bool:
        if b"poison-in-header" in header:
            raise RecursionError("maximum recursion depth exceeded")
        return self._real.wants(header)

    def identify(self, message: bytes) -> MailIdentity:
        if b"poison-in-body" in message:
            raise ValueError("Exceeds the limit (4300 digits) for integer string conversion")
        return self._real.identify(message)


def _poison(marker: str) -> bytes:
    return f"Subject: Event notification: DOMAIN: DELETED: {marker}\r\n\r\n{{}}\r\n".encode()


async def test_mail_that_breaks_identification_is_set_aside_once_and_the_rest_is_published(
    imap_server: DovecotServer, kafka_bootstrap: str, publisher: RawPublisher
) -> None:
    mailbox = new_mailbox(imap_server)
    events = generate_events(random.Random(41), 6)
    good = [notification_mail(event) for event in events]
    poison = [_poison("poison-in-header"), _poison("poison-in-body")]
    await deliver(mailbox, [*good[:3], *poison, *good[3:]])
    before = _rejected("unreadable")
    ingestor = MailboxIngestor(
        policy=MailboxPolicy(batch_size=4),
        publisher=publisher,
        classifier=_BreaksOnPoison(),
        source=Source.OPENSRS,
        account=mailbox.username,
    )

    async with RawTail(kafka_bootstrap, mailbox.username) as raw:
        first = await _scan(imap_server, mailbox, ingestor)  # raised (and ended the service) before the fix
        await raw.wait_for(len(good))
        second = await _scan(imap_server, mailbox, ingestor)
        await raw.drain()  # everything acknowledged so far: nothing else came

    assert (first.published, first.rejected) == (len(good), len(poison))
    assert second.handled == 0  # set aside, not retried
    assert {record.value for record in raw.records} == set(good)
    assert await stored(mailbox) == []
    assert {message.data for message in await stored(mailbox, "Rejected")} == set(poison)  # kept, byte for byte
    assert _rejected("unreadable") - before == len(poison)


async def test_mail_over_the_publish_limit_is_set_aside_not_retried_for_ever(
    imap_server: DovecotServer, kafka_bootstrap: str, publisher: RawPublisher
) -> None:
    mailbox = new_mailbox(imap_server)
    event, other = generate_events(random.Random(43), 2)
    normal = notification_mail(other)
    # One over the configured limit, one under it but over what the producer can send (1 MiB requests).
    over_setting = notification_mail(event).replace(b"\r\n\r\n", b"\r\n\r\n" + b"x" * 70_000 + b"\r\n", 1)
    over_broker = b"Subject: Event notification: DOMAIN: DELETED: big-2\r\n\r\n" + b"y" * 1_200_000 + b"\r\n"
    await deliver(mailbox, [over_setting, normal])
    before = _rejected("oversized")

    async with RawTail(kafka_bootstrap, mailbox.username) as raw:
        report = await _scan(imap_server, mailbox, _ingestor(publisher, mailbox, max_message_bytes=60_000))
        await raw.wait_for(1)
        await deliver(mailbox, [over_broker])
        wide = _ingestor(publisher, mailbox, max_message_bytes=4_000_000, rejected_folder="Too big")
        with structlog.testing.capture_logs() as logged:
            refused_by_kafka = await _scan(imap_server, mailbox, wide)
        again = await _scan(imap_server, mailbox, wide)
        await raw.drain()

    assert (report.published, report.rejected) == (1, 1)
    assert (refused_by_kafka.published, refused_by_kafka.rejected) == (0, 1)
    assert again.handled == 0
    assert [record.value for record in raw.records] == [normal]
    assert [record.headers.transport for record in raw.records] == [Transport.EMAIL]
    assert await stored(mailbox) == []
    assert [message.data for message in await stored(mailbox, "Rejected")] == [over_setting]
    assert [message.data for message in await stored(mailbox, "Too big")] == [over_broker]
    assert _rejected("oversized") - before == 2
    # The broker refused a record it was given: the set-aside line names that record's ingest id.
    (set_aside,) = [line for line in logged if line["event"] == "imap notification set aside in the rejected folder"]
    assert (set_aside["reason"], set_aside["detail"]) == ("oversized", "MessageSizeTooLargeError")
    assert uuid.UUID(set_aside["ingest_id"]) not in {record.headers.ingest_id for record in raw.records}
