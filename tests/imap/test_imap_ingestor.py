"""The mailbox ingestor against the real Dovecot and Kafka: what lands on the raw topic, and what the mailbox holds."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable

import pytest
from prometheus_client import REGISTRY

import regpipe.kafka
from regpipe.contract.taxonomy import Source, Transport
from regpipe.imap.config import ImapConfig, MailboxPolicy, MarkMode, Security
from regpipe.imap.connection import ImapConnection
from regpipe.imap.ingestor import MailboxIngestor
from regpipe.ingest.publisher import RawPublisher
from regpipe.kafka.errors import PublishError
from regpipe.kafka.producer import create_producer
from regpipe.providers.opensrs.email import NotificationMailClassifier
from regpipe.simulators.opensrs.events import generate_events
from regpipe.simulators.opensrs.mail import (
    MailboxTarget,
    MailKind,
    Template,
    deliver,
    mailbox_batch,
    malformed_mail,
    noise_mail,
    notification_mail,
)
from regpipe.stack.dovecot import DovecotServer
from tests.conditions import eventually
from tests.imap.mailboxes import imap_config, new_mailbox, stored
from tests.kafka_io import RawTail

pytestmark = pytest.mark.integration

PublisherFactory = Callable[..., RawPublisher]


@pytest.fixture
async def publisher(kafka_bootstrap: str) -> AsyncIterator[RawPublisher]:
    await regpipe.kafka.ensure_topics(kafka_bootstrap)
    producer = create_producer(kafka_bootstrap, client_id="imap-ingestor-test")
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


async def _scan_once(config: ImapConfig, ingestor: MailboxIngestor) -> tuple[int, int]:
    connection = await ImapConnection.open(config)
    try:
        await ingestor.prepare(connection)
        report = await ingestor.scan(connection)
    finally:
        await connection.close()
    return report.published, report.ignored


def _metric(account: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value("regpipe_imap_messages_total", {"account": account, "outcome": outcome})
    return value or 0.0


async def test_every_template_lands_byte_identical_then_is_moved(
    imap_server: DovecotServer, kafka_bootstrap: str, publisher: RawPublisher
) -> None:
    mailbox = new_mailbox(imap_server)
    events = generate_events(random.Random(7), 18)  # the first 13 walk through every known event type
    mails = [notification_mail(event, list(Template)[i % len(Template)]) for i, event in enumerate(events)]
    await deliver(mailbox, mails)
    as_stored = {message.data for message in await stored(mailbox)}
    assert as_stored == set(mails)  # the injector's bytes are what the server stores

    async with RawTail(kafka_bootstrap, mailbox.username) as raw:
        published, ignored = await _scan_once(imap_config(imap_server, mailbox), _ingestor(publisher, mailbox))
        records = await raw.wait_for(len(mails))
        await asyncio.sleep(0.3)
        await raw.poll()

    assert (published, ignored) == (len(mails), 0)
    assert len(raw.records) == len(mails)
    assert {record.value for record in records} == as_stored
    by_id = {record.headers.provider_event_id: record for record in records}
    for event in events:
        record = by_id[event["event_id"]]
        assert record.key == f"opensrs:{event['event_id']}"
        assert record.headers.source is Source.OPENSRS
        assert record.headers.transport is Transport.EMAIL
        assert record.headers.content_type == "message/rfc822"
        assert record.headers.provider_event_type == f"{event['object']}.{event['event']}"
        assert record.headers.account == mailbox.username
    assert await stored(mailbox) == []
    assert {message.data for message in await stored(mailbox, "Processed")} == as_stored


async def test_noise_is_left_alone_unread_and_counted_once(
    imap_server: DovecotServer, kafka_bootstrap: str, publisher: RawPublisher
) -> None:
    mailbox = new_mailbox(imap_server)
    rng = random.Random(11)
    noise = [noise_mail(rng) for _ in range(4)]
    event = generate_events(rng, 1)[0]
    await deliver(mailbox, [*noise, notification_mail(event)])
    ingestor = _ingestor(publisher, mailbox)
    config = imap_config(imap_server, mailbox)

    async with RawTail(kafka_bootstrap, mailbox.username) as raw:
        assert await _scan_once(config, ingestor) == (1, 4)
        assert await _scan_once(config, ingestor) == (0, 0)  # remembered: not looked at again, not recounted
        await raw.wait_for(1)
        await asyncio.sleep(0.3)
        await raw.poll()

    assert [record.headers.provider_event_id for record in raw.records] == [event["event_id"]]
    left = await stored(mailbox)
    assert [message.data for message in left] == noise
    assert all("\\Seen" not in message.flags and "\\Deleted" not in message.flags for message in left)
    assert _metric(mailbox.username, "ignored") == 4
    assert _metric(mailbox.username, "published") == 1


async def test_noise_goes_to_the_ignored_folder_when_configured(
    imap_server: DovecotServer, kafka_bootstrap: str, publisher: RawPublisher
) -> None:
    mailbox = new_mailbox(imap_server)
    rng = random.Random(12)
    noise = [noise_mail(rng) for _ in range(3)]
    await deliver(mailbox, noise)
    ingestor = _ingestor(publisher, mailbox, ignored_folder="Not events")

    async with RawTail(kafka_bootstrap, mailbox.username) as raw:
        assert await _scan_once(imap_config(imap_server, mailbox), ingestor) == (0, 3)
        await asyncio.sleep(0.5)
        assert await raw.poll() == []

    assert await stored(mailbox) == []
    assert [message.data for message in await stored(mailbox, "Not events")] == noise
    assert await stored(mailbox, "Processed") == []


async def test_unextractable_notifications_and_duplicates_are_all_published(
    imap_server: DovecotServer, kafka_bootstrap: str, publisher: RawPublisher
) -> None:
    mailbox = new_mailbox(imap_server)
    rng = random.Random(13)
    events = generate_events(rng, 3)
    broken = malformed_mail(events[0], rng)
    twice = notification_mail(events[1], Template.PLAIN_JSON)
    again = notification_mail(events[1], Template.ATTACHMENT)
    await deliver(mailbox, [broken, twice, again])

    async with RawTail(kafka_bootstrap, mailbox.username) as raw:
        assert await _scan_once(imap_config(imap_server, mailbox), _ingestor(publisher, mailbox)) == (3, 0)
        records = await raw.wait_for(3)

    assert {record.value for record in records} == {broken, twice, again}
    assert sorted(record.key for record in records) == sorted(
        [f"opensrs:{events[0]['event_id']}", f"opensrs:{events[1]['event_id']}", f"opensrs:{events[1]['event_id']}"]
    )
    assert _metric(mailbox.username, "unextractable") == 1
    assert await stored(mailbox) == []


async def test_flag_mode_leaves_messages_in_place_with_the_keyword(
    imap_server: DovecotServer, kafka_bootstrap: str, publisher: RawPublisher
) -> None:
    mailbox = new_mailbox(imap_server)
    mails = [notification_mail(event) for event in generate_events(random.Random(14), 3)]
    await deliver(mailbox, mails)
    ingestor = _ingestor(publisher, mailbox, mark=MarkMode.FLAG)
    config = imap_config(imap_server, mailbox)

    async with RawTail(kafka_bootstrap, mailbox.username) as raw:
        assert await _scan_once(config, ingestor) == (3, 0)
        assert await _scan_once(config, _ingestor(publisher, mailbox, mark=MarkMode.FLAG)) == (0, 0)
        await raw.wait_for(3)

    left = await stored(mailbox)
    assert [message.data for message in left] == mails
    assert all("$RegpipeProcessed" in message.flags and "\\Seen" not in message.flags for message in left)
    assert await stored(mailbox, "Processed") == []


async def test_without_move_the_parser_copies_then_expunges_only_its_own(
    imap_server: DovecotServer, kafka_bootstrap: str, publisher: RawPublisher
) -> None:
    mailbox = new_mailbox(imap_server)
    rng = random.Random(15)
    mails = [notification_mail(event) for event in generate_events(rng, 3)]
    noise = noise_mail(rng)
    await deliver(mailbox, [noise, *mails])
    config = imap_config(imap_server, mailbox, ignore=frozenset({"MOVE"}))

    async with RawTail(kafka_bootstrap, mailbox.username) as raw:
        assert await _scan_once(config, _ingestor(publisher, mailbox)) == (3, 1)
        await raw.wait_for(3)

    assert [message.data for message in await stored(mailbox)] == [noise]
    assert [message.data for message in await stored(mailbox, "Processed")] == mails


async def test_nothing_is_moved_when_kafka_does_not_acknowledge(
    imap_server: DovecotServer, kafka_bootstrap: str, publisher: RawPublisher
) -> None:
    mailbox = new_mailbox(imap_server)
    mails = [notification_mail(event) for event in generate_events(random.Random(16), 4)]
    await deliver(mailbox, mails)
    # A topic the broker does not have (auto-creation is off): the real broker refuses every record.
    producer = create_producer(kafka_bootstrap, client_id="imap-ingestor-test-refused", request_timeout_ms=3000)
    await producer.start()
    try:
        refused = RawPublisher(producer, topic="registrar.raw.does-not-exist", timeout_s=3)
        with pytest.raises(PublishError):
            await _scan_once(imap_config(imap_server, mailbox), _ingestor(refused, mailbox))
    finally:
        await producer.stop()
    assert [message.data for message in await stored(mailbox)] == mails
    assert await stored(mailbox, "Processed") == []

    async with RawTail(kafka_bootstrap, mailbox.username) as raw:
        assert await _scan_once(imap_config(imap_server, mailbox), _ingestor(publisher, mailbox)) == (4, 0)
        assert {record.value for record in await raw.wait_for(4)} == set(mails)
    assert await stored(mailbox) == []


async def test_idle_picks_up_a_new_mail_long_before_the_next_poll(
    imap_server: DovecotServer, kafka_bootstrap: str, publisher: RawPublisher
) -> None:
    # Milliseconds on a quiet machine (printed); the assertion only needs to tell IDLE from the 120 s poll, so a
    # loaded machine cannot fail it.
    mailbox = new_mailbox(imap_server)
    first, second = (notification_mail(event) for event in generate_events(random.Random(17), 2))
    latency = await _pickup_latency(imap_server, mailbox, kafka_bootstrap, publisher, first, second, poll_s=120.0)
    print(f"IDLE pickup latency: {latency * 1000:.0f} ms")
    assert latency < 60.0


async def test_without_idle_the_mailbox_is_polled(
    imap_server: DovecotServer, kafka_bootstrap: str, publisher: RawPublisher
) -> None:
    mailbox = new_mailbox(imap_server)
    first, second = (notification_mail(event) for event in generate_events(random.Random(18), 2))
    latency = await _pickup_latency(
        imap_server, mailbox, kafka_bootstrap, publisher, first, second, ignore=frozenset({"IDLE"}), poll_s=1.0
    )
    assert latency < 60.0  # picked up without IDLE at all: by a poll (a second apart), within the deadline


async def test_tls_mailbox_with_every_kind_of_mail(
    imap_server: DovecotServer, kafka_bootstrap: str, publisher: RawPublisher
) -> None:
    mailbox = new_mailbox(imap_server)
    tls_target = MailboxTarget(
        host=mailbox.host,
        port=imap_server.ssl_port or 0,
        username=mailbox.username,
        password=mailbox.password,
        tls=True,
        ca_file=imap_server.ca_file,
    )
    mails = mailbox_batch(random.Random(19), 12, duplicate_rate=0.3, malformed_rate=0.2, noise_rate=0.3)
    await deliver(tls_target, [mail.message for mail in mails])
    expected = [mail for mail in mails if mail.kind is not MailKind.NOISE]

    async with RawTail(kafka_bootstrap, mailbox.username) as raw:
        config = imap_config(imap_server, mailbox, security=Security.IMAPS)
        published, ignored = await _scan_once(config, _ingestor(publisher, mailbox, ignored_folder="Ignored"))
        records = await raw.wait_for(len(expected))

    assert (published, ignored) == (len(expected), len(mails) - len(expected))
    assert sorted(record.value for record in records) == sorted(mail.message for mail in expected)
    assert await stored(mailbox) == []


async def _pickup_latency(
    imap_server: DovecotServer,
    mailbox: MailboxTarget,
    kafka_bootstrap: str,
    publisher: RawPublisher,
    first: bytes,
    second: bytes,
    *,
    ignore: frozenset[str] = frozenset(),
    poll_s: float = 30.0,
) -> float:
    """Run the ingestor; once it has handled `first` and waits, deliver `second`; seconds until it is on Kafka."""
    ingestor = _ingestor(publisher, mailbox, poll_interval_s=poll_s)
    stop = asyncio.Event()
    connection = await ImapConnection.open(imap_config(imap_server, mailbox, ignore=ignore))
    try:
        await ingestor.prepare(connection)
        async with RawTail(kafka_bootstrap, mailbox.username) as raw:
            running = asyncio.create_task(ingestor.run(connection, stop))
            await deliver(mailbox, [first])
            await raw.wait_for(1, timeout_s=60)
            if "IDLE" not in ignore:
                # Deliver once the ingestor idles (a condition, not a pause), so that IDLE is what is measured.
                await eventually(lambda: connection._client.has_pending_idle(), "the ingestor idles")
            sent = time.monotonic()
            await deliver(mailbox, [second])
            records = await raw.wait_for(2, timeout_s=60)
            latency = time.monotonic() - sent
            stop.set()
            await asyncio.wait_for(running, timeout=30)
    finally:
        await connection.close()
    assert records[1].value == second
    return latency
