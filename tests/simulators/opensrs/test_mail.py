"""The e-mail simulator builds notifications the reader understands in every shape, and delivers them byte-exact."""

from __future__ import annotations

import random
from collections import Counter
from email import policy
from email.parser import BytesParser

import pytest

from regpipe.contract.raw import EmailAuth
from regpipe.demo.catalog import DEMO_AUTHSERV_ID, DEMO_SIGNING_DOMAIN
from regpipe.imap.authentication import SenderAuthentication
from regpipe.providers.mapper import MappingError, QuarantineReason
from regpipe.providers.opensrs.email import NotificationMailClassifier, extract_event, parse_subject, read_subject
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
    vouched,
)
from regpipe.stack.dovecot import DovecotServer
from tests.imap.mailboxes import new_mailbox, stored

EVENTS = generate_events(random.Random(5), 26)  # every known event type twice, IDN domains among them


def _content_types(message: bytes) -> set[str]:
    parsed = BytesParser(policy=policy.default).parsebytes(message)
    return {part.get_content_type() for part in parsed.walk()}


@pytest.mark.parametrize("template", list(Template))
def test_every_template_carries_every_event_type(template: Template) -> None:
    for event in EVENTS:
        message = notification_mail(event, template)
        assert extract_event(message) == event
        subject = parse_subject(read_subject(message))
        assert subject is not None
        assert (subject.object, subject.event, subject.event_id) == (event["object"], event["event"], event["event_id"])


def test_messages_use_crlf_line_ends_only() -> None:
    for template in Template:
        message = notification_mail(EVENTS[0], template)
        assert b"\n" not in message.replace(b"\r\n", b""), template


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (Template.PLAIN_JSON, b"Content-Transfer-Encoding: 8bit"),
        (Template.BASE64, b"Content-Transfer-Encoding: base64"),
        (Template.QUOTED_PRINTABLE, b"Content-Transfer-Encoding: quoted-printable"),
        (Template.LATIN1, b'charset="iso-8859-1"'),
        (Template.MISLABELLED_CHARSET, b'charset="iso-8859-1"'),
        (Template.ATTACHMENT, b'filename="event_data.json"'),
    ],
)
def test_templates_really_use_their_encoding(template: Template, expected: bytes) -> None:
    assert expected in notification_mail(EVENTS[0], template)


def test_templates_have_their_mime_structure() -> None:
    assert _content_types(notification_mail(EVENTS[0], Template.HTML_ONLY)) == {"text/html"}
    assert _content_types(notification_mail(EVENTS[0], Template.ALTERNATIVE)) == {
        "multipart/alternative",
        "text/plain",
        "text/html",
    }
    assert _content_types(notification_mail(EVENTS[0], Template.ATTACHMENT)) == {
        "multipart/mixed",
        "text/plain",
        "application/json",
    }


def test_plain_json_template_is_what_opensrs_sends() -> None:
    message = notification_mail(EVENTS[0], Template.PLAIN_JSON)
    body = message.split(b"\r\n\r\n", 1)[1]
    assert body.strip() == BytesParser(policy=policy.default).parsebytes(message).get_content().strip().encode()
    assert body.startswith(b'{"object_data":')


def test_mislabelled_charset_really_is_utf8_labelled_latin1() -> None:
    idn = next(event for event in EVENTS if not event["object_data"]["domain_name"].isascii())
    message = notification_mail(idn, Template.MISLABELLED_CHARSET)
    assert idn["object_data"]["domain_name"].encode("utf-8") in message
    assert extract_event(message) == idn


def test_malformed_mail_is_a_notification_whose_json_does_not_decode() -> None:
    rng = random.Random(6)
    for event in EVENTS:
        message = malformed_mail(event, rng)
        assert NotificationMailClassifier().wants(message)
        with pytest.raises(MappingError) as caught:
            extract_event(message)
        assert caught.value.reason in {QuarantineReason.INVALID_JSON, QuarantineReason.INVALID_EMAIL}


def test_noise_is_never_taken_for_a_notification() -> None:
    rng = random.Random(7)
    classifier = NotificationMailClassifier()
    subjects = set()
    for _ in range(60):
        message = noise_mail(rng)
        subjects.add(read_subject(message))
        assert not classifier.wants(message)
    assert len(subjects) >= 5  # several kinds of noise, lookalike subjects among them


def test_batch_mixes_kinds_at_the_given_rates() -> None:
    mails = mailbox_batch(random.Random(8), 200, duplicate_rate=0.1, malformed_rate=0.1, noise_rate=0.2)
    kinds = Counter(mail.kind for mail in mails)
    assert kinds[MailKind.NOTIFICATION] + kinds[MailKind.MALFORMED] == 200
    assert 10 <= kinds[MailKind.DUPLICATE] <= 35
    assert 10 <= kinds[MailKind.MALFORMED] <= 35
    assert 20 <= kinds[MailKind.NOISE] <= 60
    originals = {mail.event_id for mail in mails if mail.kind is MailKind.NOTIFICATION}
    assert {mail.event_id for mail in mails if mail.kind is MailKind.DUPLICATE} <= originals
    assert {mail.template for mail in mails if mail.kind is MailKind.NOTIFICATION} == set(Template)
    assert all(mail.event is None for mail in mails if mail.kind is MailKind.NOISE)


def test_batch_is_reproducible_but_for_message_ids_and_dates() -> None:
    first = mailbox_batch(random.Random(9), 20, noise_rate=0.3)
    second = mailbox_batch(random.Random(9), 20, noise_rate=0.3)
    assert [(m.kind, m.event_id, m.template) for m in first] == [(m.kind, m.event_id, m.template) for m in second]


@pytest.mark.integration
async def test_delivered_mail_is_stored_byte_for_byte(imap_server: DovecotServer) -> None:
    mailbox = new_mailbox(imap_server, "simulator")
    mails = mailbox_batch(random.Random(10), 12, duplicate_rate=0.2, malformed_rate=0.1, noise_rate=0.2)
    uids = await deliver(mailbox, [mail.message for mail in mails])
    assert uids == sorted(uids)
    assert len(uids) == len(mails)
    assert [message.data for message in await stored(mailbox)] == [mail.message for mail in mails]


@pytest.mark.integration
async def test_delivery_over_imaps(imap_server: DovecotServer) -> None:
    plain = new_mailbox(imap_server, "simulator-tls")
    target = MailboxTarget(
        host=plain.host,
        port=imap_server.ssl_port or 0,
        username=plain.username,
        password=plain.password,
        tls=True,
        ca_file=imap_server.ca_file,
    )
    message = notification_mail(EVENTS[1], Template.ALTERNATIVE)
    assert len(await deliver(target, [message])) == 1
    assert [stored_message.data for stored_message in await stored(plain)] == [message]


def test_mail_vouched_by_the_simulated_receiving_server_passes_the_parsers_check() -> None:
    check = SenderAuthentication(
        trusted_authserv_ids=frozenset({DEMO_AUTHSERV_ID}), signing_domains=frozenset({DEMO_SIGNING_DOMAIN})
    )
    mail = notification_mail(EVENTS[0])
    assert check.verdict(mail) is EmailAuth.UNVERIFIED
    assert check.verdict(vouched(mail, DEMO_AUTHSERV_ID)) is EmailAuth.DKIM_PASS
    assert check.verdict(vouched(mail, "mx.someone-else.test")) is EmailAuth.UNVERIFIED
