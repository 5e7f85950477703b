"""Builds realistic OpenSRS event-notification e-mails and APPENDs them into an IMAP mailbox, for tests and demos.

Resellers edit OpenSRS's notification template, and mail software re-encodes what passes through it, so the
same event object is mailed in several shapes (`Template`): the bare JSON body OpenSRS sends by default, text
around it, HTML only, multipart/alternative, base64 and quoted-printable, Latin-1, a mislabelled charset, and the
JSON as an `event_data.json` attachment. Misbehaviour on demand: the same event mailed twice, a JSON body cut
short, and mail that is no notification at all. Messages are built with CRLF line ends, as IMAP stores them, so
what is APPENDed is byte for byte what a reader FETCHes back.
"""

from __future__ import annotations

import asyncio
import html
import imaplib
import json
import random
import re
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson

from regpipe.simulators.opensrs.events import generate_events

__all__ = [
    "MailKind",
    "MailboxTarget",
    "SimulatedMail",
    "Template",
    "deliver",
    "mailbox_batch",
    "malformed_mail",
    "noise_mail",
    "notification_mail",
    "vouched",
]

_POLICY = policy.SMTP  # CRLF line ends, headers folded at 78 characters
_SENDER = "OpenSRS Event Notifications <do-not-reply@notifications.opensrs.example>"
_RECIPIENT = "Technical Contact <tech@reseller.example>"
_MSGID_DOMAIN = "notifications.opensrs.example"
_APPENDUID = re.compile(rb"\[APPENDUID \d+ (\d+)\]")


class Template(StrEnum):
    """The shapes one event notification can take on its way into a mailbox."""

    PLAIN_JSON = "plain_json"  # OpenSRS's default: the body is the JSON object, nothing else
    TEXT_AROUND_JSON = "text_around_json"  # a reseller template: greeting and footer around the JSON
    HTML_ONLY = "html_only"  # text/html only, JSON HTML-escaped, the domain auto-linked by a mail client
    ALTERNATIVE = "alternative"  # multipart/alternative: text/plain and text/html
    BASE64 = "base64"
    QUOTED_PRINTABLE = "quoted_printable"
    LATIN1 = "latin1"  # ISO-8859-1 text, quoted-printable
    MISLABELLED_CHARSET = "mislabelled_charset"  # UTF-8 bytes labelled ISO-8859-1
    ATTACHMENT = "attachment"  # multipart/mixed: a short note and event_data.json


class MailKind(StrEnum):
    """What a simulated mail is, so tests know what the pipeline must make of it."""

    NOTIFICATION = "notification"
    DUPLICATE = "duplicate"  # an event mailed once more (same event_id, fresh Message-ID)
    MALFORMED = "malformed"  # a notification subject with a JSON body cut short: must still be published raw
    NOISE = "noise"  # not an event notification: must never be published nor deleted


@dataclass(frozen=True, slots=True)
class SimulatedMail:
    """One message as it will be APPENDed, with the event behind it (None for noise)."""

    kind: MailKind
    message: bytes
    event: dict[str, Any] | None = None
    template: Template | None = None

    @property
    def event_id(self) -> str | None:
        """The event id this mail is about, if any."""
        return None if self.event is None else str(self.event["event_id"])


@dataclass(frozen=True, slots=True)
class MailboxTarget:
    """Where `deliver` APPENDs: a plain IMAP port, or IMAPS (`tls=True`, trusting `ca_file` when given)."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    mailbox: str = "INBOX"
    tls: bool = False
    ca_file: Path | None = None
    # Plays the receiving mail server: when set, each message gets the `Authentication-Results` field a server
    # with this authserv-id adds after verifying OpenSRS's DKIM signature (RFC 8601), as production mail has.
    authserv_id: str | None = None


def notification_mail(
    event: dict[str, Any],
    template: Template = Template.PLAIN_JSON,
    *,
    sent_at: datetime | None = None,
    recipient: str = _RECIPIENT,
) -> bytes:
    """The notification e-mail OpenSRS (or a reseller's template) sends for `event`, as CRLF bytes."""
    subject = _subject(event)
    body = orjson.dumps(event).decode()
    if template is Template.MISLABELLED_CHARSET:
        return _mislabelled(subject, body, sent_at, recipient)
    message = _headers(subject, sent_at, recipient)
    if template is Template.PLAIN_JSON:
        message.set_content(body, cte="8bit")
    elif template is Template.TEXT_AROUND_JSON:
        message.set_content(_friendly_text(body, event), cte="8bit")
    elif template is Template.HTML_ONLY:
        message.set_content(_friendly_html(body, event), subtype="html", cte="quoted-printable")
    elif template is Template.ALTERNATIVE:
        message.set_content(_friendly_text(body, event), cte="quoted-printable")
        message.add_alternative(_friendly_html(body, event), subtype="html", cte="quoted-printable")
    elif template is Template.BASE64:
        message.set_content(_friendly_text(body, event), cte="base64")
    elif template is Template.QUOTED_PRINTABLE:
        message.set_content(body, cte="quoted-printable")
    elif template is Template.LATIN1:
        text = f"Bonjour,\n\nVoici l'événement « {event['event']} » :\n\n{body}\n\nÀ bientôt.\n"
        message.set_content(_latin1_only(text), charset="iso-8859-1", cte="quoted-printable")
    elif template is Template.ATTACHMENT:
        message.set_content("Hello,\n\nThe data of this event is attached (event_data.json).\n\nOpenSRS\n", cte="7bit")
        message.add_attachment(
            orjson.dumps(event, option=orjson.OPT_INDENT_2),
            maintype="application",
            subtype="json",
            filename="event_data.json",
        )
    return message.as_bytes(policy=_POLICY)


def malformed_mail(event: dict[str, Any], rng: random.Random, *, sent_at: datetime | None = None) -> bytes:
    """A notification whose JSON body is cut short (as by a broken template or a truncating relay)."""
    body = orjson.dumps(event).decode()
    message = _headers(_subject(event), sent_at, _RECIPIENT)
    message.set_content(body[: rng.randint(len(body) // 3, len(body) - 2)], cte="8bit")
    return message.as_bytes(policy=_POLICY)


def noise_mail(rng: random.Random, *, sent_at: datetime | None = None) -> bytes:
    """Mail a technical contact's inbox also receives: newsletters, invoices, auto-replies, lookalike subjects."""
    subject, body = rng.choice(_NOISE)
    message = EmailMessage(policy=_POLICY)
    message["From"] = rng.choice(_NOISE_SENDERS)
    message["To"] = _RECIPIENT
    message["Subject"] = subject
    message["Date"] = format_datetime(sent_at or datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="mail.example")
    message.set_content(body, cte="quoted-printable")
    return message.as_bytes(policy=_POLICY)


def mailbox_batch(
    rng: random.Random,
    n: int,
    *,
    templates: Sequence[Template] = tuple(Template),
    duplicate_rate: float = 0.0,
    malformed_rate: float = 0.0,
    noise_rate: float = 0.0,
    events: Sequence[dict[str, Any]] | None = None,
) -> list[SimulatedMail]:
    """`n` notifications (events from the shared generator unless given, templates in turn), with duplicates,
    malformed notifications and noise mixed in at the given rates; oldest first."""
    chosen = list(events) if events is not None else generate_events(rng, n)
    sent_at = datetime.now(UTC) - timedelta(minutes=len(chosen))
    mails: list[SimulatedMail] = []
    for index, event in enumerate(chosen):
        sent_at += timedelta(seconds=rng.randint(1, 59))
        if noise_rate and rng.random() < noise_rate:
            mails.append(SimulatedMail(MailKind.NOISE, noise_mail(rng, sent_at=sent_at)))
        if malformed_rate and rng.random() < malformed_rate:
            mails.append(SimulatedMail(MailKind.MALFORMED, malformed_mail(event, rng, sent_at=sent_at), event))
            continue
        template = templates[index % len(templates)]
        mails.append(
            SimulatedMail(MailKind.NOTIFICATION, notification_mail(event, template, sent_at=sent_at), event, template)
        )
        if duplicate_rate and rng.random() < duplicate_rate:
            again = rng.choice(templates)
            later = sent_at + timedelta(seconds=rng.randint(1, 30))
            mails.append(
                SimulatedMail(MailKind.DUPLICATE, notification_mail(event, again, sent_at=later), event, again)
            )
    return mails


async def deliver(target: MailboxTarget, messages: Iterable[bytes]) -> list[int]:
    """APPEND each message to the target mailbox over one connection; return the UIDs the server gave them.

    Uses the standard library's client in a worker thread: an injector independent of the parser's own client.
    """
    return await asyncio.to_thread(_deliver_sync, target, list(messages))


def _deliver_sync(target: MailboxTarget, messages: list[bytes]) -> list[int]:
    client: imaplib.IMAP4
    if target.tls:
        context = ssl.create_default_context(cafile=str(target.ca_file) if target.ca_file else None)
        client = imaplib.IMAP4_SSL(target.host, target.port, ssl_context=context, timeout=30)
    else:
        client = imaplib.IMAP4(target.host, target.port, timeout=30)
    uids: list[int] = []
    if target.authserv_id is not None:
        messages = [vouched(message, target.authserv_id) for message in messages]
    with client:
        client.login(target.username, target.password)
        for message in messages:
            _status, answer = client.append(target.mailbox, "", imaplib.Time2Internaldate(datetime.now(UTC)), message)
            found = _APPENDUID.search(answer[0] if answer and isinstance(answer[0], bytes) else b"")
            if found is not None:
                uids.append(int(found.group(1)))
        client.logout()
    return uids


def _subject(event: dict[str, Any]) -> str:
    return f"Event notification: {event['object']}: {event['event']}: {event['event_id']}"


def _latin1_only(text: str) -> str:
    """Characters outside Latin-1 as JSON \\u escapes (valid, since they only occur inside JSON strings)."""
    return "".join(char if ord(char) < 0x100 else json.dumps(char)[1:-1] for char in text)


def vouched(message: bytes, authserv_id: str, signing_domain: str = _MSGID_DOMAIN) -> bytes:
    """`message` as a receiving server that verified its DKIM signature delivers it: with an
    `Authentication-Results` field of its own authserv-id on top."""
    field = f"Authentication-Results: {authserv_id}; dkim=pass header.d={signing_domain}\r\n"
    return field.encode() + message


def _headers(subject: str, sent_at: datetime | None, recipient: str) -> EmailMessage:
    message = EmailMessage(policy=_POLICY)
    message["From"] = _SENDER
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(sent_at or datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=_MSGID_DOMAIN)
    message["X-Mailer"] = "OpenSRS Messaging"
    return message


def _friendly_text(body: str, event: dict[str, Any]) -> str:
    return (
        "Hello,\n\n"
        f"An event occurred on your reseller account: {event['object']} {event['event']}.\n"
        "The event data follows, in JSON, for your scripts:\n\n"
        f"{body}\n\n"
        "--\nThis message was sent automatically. Please do not reply.\n"
        "Manage notifications: Reseller Control Panel > Account Settings > Event Notifications.\n"
    )


def _friendly_html(body: str, event: dict[str, Any]) -> str:
    escaped = html.escape(body, quote=True)
    domain = event.get("object_data", {}).get("domain_name")
    if isinstance(domain, str) and domain:
        # Mail clients turn domain names into links, even inside the JSON.
        quoted = html.escape(domain)
        escaped = escaped.replace(quoted, f'<a href="http://{quoted}" target="_blank">{quoted}</a>', 1)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><style>pre{font-family:monospace}</style></head>'
        "<body><p>Hello,</p>"
        f"<p>An event occurred on your reseller account: <b>{html.escape(event['object'])}</b> "
        f"<b>{html.escape(event['event'])}</b>.</p>"
        f"<pre>{escaped}</pre>"
        '<p style="color:#888">This message was sent automatically.&nbsp;Please do not reply.</p>'
        "</body></html>\n"
    )


def _mislabelled(subject: str, body: str, sent_at: datetime | None, recipient: str) -> bytes:
    # Built by hand: the email package would re-encode the text to match the label.
    head = _headers(subject, sent_at, recipient)
    head["MIME-Version"] = "1.0"
    head["Content-Type"] = 'text/plain; charset="iso-8859-1"'
    head["Content-Transfer-Encoding"] = "8bit"
    text = f"Grüße,\n\n{body}\n\n— OpenSRS\n".replace("\n", "\r\n")
    return head.as_bytes(policy=_POLICY) + text.encode("utf-8")


_NOISE_SENDERS = (
    "Registrar Newsletter <news@registrar-news.example>",
    "Billing <billing@reseller.example>",
    "Mail Delivery Subsystem <mailer-daemon@mx.reseller.example>",
    "Jane Doe <jane@customer.example>",
)
_NOISE = (
    ("Your monthly reseller newsletter", "New TLDs are available this month. Read more on our blog.\n"),
    ("Invoice 2025-0142 is available", "Your invoice is ready. Amount due: 120.00 USD.\n"),
    ("Automatic reply: Out of office", "I am out of the office until Monday and will reply then.\n"),
    ("Re: Event notification settings", "Can we switch the event notifications to API polling only?\n"),
    ("Undelivered Mail Returned to Sender", "This is the mail system. Your message could not be delivered.\n"),
    ("Event notification: please confirm your address", 'Click to confirm. {"note": "not an event"}\n'),
)
