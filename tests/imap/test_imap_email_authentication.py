"""A forged notification e-mail cannot make the pipeline publish (issue 12), against the real Dovecot and Kafka:
the IMAP parser records on each raw record whether a trusted server vouched for the mail, and the normalizer's
OpenSRS mapper holds the events of every mail nothing trusted vouches for (`unverified_email`), while a vouched
mail maps to the same canonical event, under the same id, as before."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

import regpipe.kafka
from regpipe.contract.raw import EmailAuth
from regpipe.contract.sealing import RawSealer
from regpipe.contract.taxonomy import EventType, Source
from regpipe.imap.authentication import SenderAuthentication
from regpipe.imap.config import MailboxPolicy
from regpipe.imap.connection import ImapConnection
from regpipe.imap.ingestor import MailboxIngestor
from regpipe.ingest.publisher import RawPublisher
from regpipe.kafka.producer import create_producer
from regpipe.kafka.topics import Topic
from regpipe.normalize.processor import Mapped, Processor, Quarantined
from regpipe.normalize.registry import default_mappers
from regpipe.providers.mapper import QuarantineReason, RawInput
from regpipe.providers.opensrs.email import NotificationMailClassifier
from regpipe.providers.opensrs.mapping import map_record
from regpipe.simulators.opensrs.events import generate_events
from regpipe.simulators.opensrs.mail import deliver, notification_mail
from regpipe.stack.dovecot import DovecotServer
from tests.imap.mailboxes import imap_config, new_mailbox
from tests.kafka_io import RawRecord, RawTail

pytestmark = pytest.mark.integration

_TRUST = SenderAuthentication(
    trusted_authserv_ids=frozenset({"mx.reseller.example"}), signing_domains=frozenset({"opensrs.example"})
)


@dataclass(frozen=True, slots=True)
class _Consumed:
    """A raw record as the normalizer consumes it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def _consumed(record: RawRecord) -> _Consumed:
    return _Consumed(
        Topic.RAW.value, record.partition, record.offset, record.key.encode(), record.value, record.headers.to_kafka()
    )


def _with_results(mail: bytes, *results: str) -> bytes:
    return b"".join(f"Authentication-Results: {value}\r\n".encode() for value in results) + mail


@pytest.fixture
async def publisher(kafka_bootstrap: str) -> AsyncIterator[RawPublisher]:
    await regpipe.kafka.ensure_topics(kafka_bootstrap)
    producer = create_producer(kafka_bootstrap, client_id="imap-auth-test")
    await producer.start()
    try:
        yield RawPublisher(producer)
    finally:
        await producer.stop()


async def test_forged_notifications_are_held_and_a_vouched_one_is_published_under_its_usual_id(
    imap_server: DovecotServer, kafka_bootstrap: str, publisher: RawPublisher
) -> None:
    mailbox = new_mailbox(imap_server)
    deletions = [event for event in generate_events(random.Random(5), 200) if event["event"] == "DELETED"][:5]
    assert len(deletions) == 5
    genuine, *forged_events = deletions
    forged = [
        notification_mail(forged_events[0]),  # no Authentication-Results at all
        _with_results(notification_mail(forged_events[1]), "mx.attacker.example; dkim=pass header.d=opensrs.example"),
        _with_results(notification_mail(forged_events[2]), "mx.reseller.example; dkim=pass header.d=attacker.example"),
        _with_results(notification_mail(forged_events[3]), "mx.reseller.example; dkim=fail header.d=opensrs.example"),
    ]
    vouched = _with_results(notification_mail(genuine), "mx.reseller.example; dkim=pass header.d=opensrs.example")
    await deliver(mailbox, [*forged, vouched])
    ingestor = MailboxIngestor(
        policy=MailboxPolicy(),
        publisher=publisher,
        classifier=NotificationMailClassifier(),
        source=Source.OPENSRS,
        account=mailbox.username,
        authentication=_TRUST,
    )

    async with RawTail(kafka_bootstrap, mailbox.username) as raw:
        connection = await ImapConnection.open(imap_config(imap_server, mailbox))
        try:
            await ingestor.prepare(connection)
            await ingestor.scan(connection)
        finally:
            await connection.close()
        records = await raw.wait_for(5)

    by_body = {record.value: record for record in records}
    assert by_body[vouched].headers.email_auth is EmailAuth.DKIM_PASS
    assert [by_body[mail].headers.email_auth for mail in forged] == [EmailAuth.UNVERIFIED] * 4

    processor = Processor(default_mappers(), RawSealer({}, None))
    for mail in forged:
        held = processor.process(_consumed(by_body[mail]))
        assert isinstance(held, Quarantined)  # before the fix: a published domain.deleted
        assert held.reason is QuarantineReason.UNVERIFIED_EMAIL
        assert "domain.deleted" in held.message
    published = processor.process(_consumed(by_body[vouched]))
    assert isinstance(published, Mapped)
    (event,) = published.events
    assert event.type is EventType.DOMAIN_DELETED
    (usual,) = map_record(RawInput(body=vouched, headers=by_body[vouched].headers))
    assert event.id == usual.id  # the verdict changes nothing in the canonical event of a vouched mail
    assert event.model_dump(exclude={"lineage"}) == usual.model_dump(exclude={"lineage"})
