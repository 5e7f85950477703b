"""Reads OpenSRS event-notification e-mails: the `Event notification: <OBJECT>: <EVENT>: <event_id>` subject, and
the event's JSON object from the body (plain or HTML, any transfer encoding or charset) or an `event_data*.json`
attachment. Pure (no I/O): the IMAP parser classifies mail with it, the OpenSRS mapping extracts events with it.

Decisions where OpenSRS's material is silent: `Re:`/`Fwd:`-style prefixes and `[TAG]` markers added by mail
gateways are tolerated before the subject (a forwarded notification is still the same event, and the
deduplicator drops it if it arrived already); the event id may be missing from the subject, the JSON's is then
used; a subject whose event id differs from the JSON's is refused, since one of them is wrong.
"""

from __future__ import annotations

import codecs
import fnmatch
import html
import json
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser, BytesParser
from typing import Any, NamedTuple

from regpipe.providers.mapper import MappingError, QuarantineReason

__all__ = [
    "NotificationIdentity",
    "NotificationMailClassifier",
    "NotificationSubject",
    "extract_event",
    "parse_subject",
    "read_subject",
]

_SUBJECT = re.compile(
    r"""
    ^(?:\s*(?:(?:re|fwd?|aw|wg|tr|sv|vs)\s*:|\[[^\]]*\]))*    # reply/forward prefixes, [EXTERNAL]-style markers
    \s*event\s+notification\s*:
    \s*(?P<object>[a-z][a-z0-9_]*)\s*:
    \s*(?P<event>[a-z][a-z0-9_]*)\s*
    (?::\s*(?P<event_id>[a-z0-9][a-z0-9._-]*)?\s*)?$
    """,
    re.IGNORECASE | re.VERBOSE,
)
_ATTACHMENT_NAME = "event_data*.json"
_JSON_TYPES = frozenset({"application/json", "text/json"})
_EVENT_ID_KEY = '"event_id"'
# A hostile body full of braces must not turn the scan quadratic: real notifications need a handful of attempts.
_MAX_DECODE_ATTEMPTS = 2000
_SINGLE_BYTE_LATIN = frozenset(codecs.lookup(name).name for name in ("ascii", "latin-1", "iso-8859-15", "cp1252"))
_OBJECT_START = re.compile(r"\{\s*\"")
_QUOTE_MARKERS = re.compile(r"^(?:[ \t]*>)+ ?", re.MULTILINE)
_DECODER = json.JSONDecoder()
# Byte budgets, so that no mail costs more than a bounded amount of CPU whatever its shape (an 844 KB mail once
# took 34 s): the characters the JSON scan may read over all its attempts, per text, and the multipart containers
# a mail may nest (the email package parses and walks them recursively: ~950 levels raise RecursionError).
_SCAN_BUDGET_FACTOR = 4
_MAX_MULTIPARTS = 64
_MULTIPART_TYPE = re.compile(rb"content-type:[ \t]*(?:\r?\n[ \t]+)?multipart/", re.IGNORECASE)


class NotificationSubject(NamedTuple):
    """The parts of a notification subject; `event_id` is None when the subject carries none."""

    object: str
    event: str
    event_id: str | None

    @property
    def event_type(self) -> str:
        """`<OBJECT>.<EVENT>`, the provider event type of the raw record."""
        return f"{self.object}.{self.event}"


def parse_subject(subject: str | None) -> NotificationSubject | None:
    """Parse `Event notification: <OBJECT>: <EVENT>: <event_id>`; None for any other subject.

    RFC 2047 encoded words are decoded, folding and runs of whitespace collapse, object and event are upper-cased.
    """
    if not subject:
        return None
    if "=?" in subject:
        subject = str(policy.default.header_factory("subject", subject))
    match = _SUBJECT.match(" ".join(subject.split()))
    if match is None:
        return None
    return NotificationSubject(
        object=match["object"].upper(), event=match["event"].upper(), event_id=match["event_id"] or None
    )


def read_subject(message: bytes) -> str | None:
    """The decoded Subject of an RFC 822 message (or of its header block alone); None when it has none."""
    headers = BytesHeaderParser(policy=policy.default).parsebytes(message)
    subject = headers["Subject"]
    return None if subject is None else str(subject)


def extract_event(message: bytes) -> dict[str, Any]:
    """Return the event JSON object of an OpenSRS notification e-mail.

    Looks in text/plain parts, then text/html parts, then attachments named `event_data*.json` or typed JSON, and
    takes the first JSON object holding an `event_id` (surrounding text is ignored). Raises `MappingError`:
    INVALID_JSON when the mail holds a JSON object that does not decode and no event, INVALID_EMAIL when it holds
    no event at all, holds several different ones, or its event id differs from the subject's.
    """
    if len(_MULTIPART_TYPE.findall(message)) > _MAX_MULTIPARTS:
        raise MappingError(QuarantineReason.NESTING_TOO_DEEP, f"more than {_MAX_MULTIPARTS} multipart containers")
    try:
        parsed = BytesParser(policy=policy.default).parsebytes(message)
        subject_text = parsed["Subject"]
        texts = _candidate_texts(parsed) if isinstance(parsed, EmailMessage) else None
    except RecursionError:  # a shape the cap above does not count (e.g. nested message/rfc822 parts)
        raise MappingError(QuarantineReason.NESTING_TOO_DEEP, "parts nested too deeply to read") from None
    if texts is None:  # pragma: no cover - policy.default always builds EmailMessage
        raise MappingError(QuarantineReason.INVALID_EMAIL, "not an RFC 822 message")
    subject = parse_subject(None if subject_text is None else str(subject_text))
    json_problem: str | None = None
    for group in texts:
        events: list[dict[str, Any]] = []
        for text in group:
            found, problem = _event_objects(text)
            events.extend(found)
            json_problem = json_problem or problem
        if events:
            return _choose(events, subject)
    if json_problem is not None:
        raise MappingError(QuarantineReason.INVALID_JSON, f"the e-mail {json_problem}")
    # Never the subject itself: it is sender-controlled text, and quarantine messages and logs quote no payload.
    what = f"notification {subject.event_type}" if subject else "non-notification e-mail"
    raise MappingError(
        QuarantineReason.INVALID_EMAIL,
        f"{what}: no JSON event object in its text/plain, text/html or event_data*.json parts",
    )


@dataclass(frozen=True, slots=True)
class NotificationIdentity:
    """What the IMAP parser records about a notification mail it publishes raw."""

    provider_event_id: str | None
    provider_event_type: str | None
    extracted: bool  # False: the JSON could not be extracted (the normalizer will quarantine the record)
    problem: str | None = None
    readable: bool = True  # False: reading the mail failed outright (the IMAP parser sets it aside)


class NotificationMailClassifier:
    """Tells OpenSRS event notifications from other mail (by subject) and names them for the raw record."""

    def wants(self, header: bytes) -> bool:
        """True when the header block's subject is an event notification's."""
        return parse_subject(read_subject(header)) is not None

    def identify(self, message: bytes) -> NotificationIdentity:
        """Event id and `<OBJECT>.<EVENT>` from the subject, else from the JSON; never raises.

        A mail the libraries cannot read at all (MIME nested beyond the recursion limit, a 4,300+ digit number in
        its JSON, a header no decoder takes) is reported unreadable, naming only the exception type.
        """
        try:
            return self._identify(message)
        except Exception as exc:  # noqa: BLE001 - whatever one mail's content triggers, it only concerns that mail
            problem = f"the e-mail cannot be read ({type(exc).__name__})"
            return NotificationIdentity(None, None, extracted=False, problem=problem, readable=False)

    def _identify(self, message: bytes) -> NotificationIdentity:
        subject = parse_subject(read_subject(message))
        try:
            event = extract_event(message)
        except MappingError as error:
            return NotificationIdentity(
                provider_event_id=subject.event_id if subject else None,
                provider_event_type=subject.event_type if subject else None,
                extracted=False,
                problem=error.message,
            )
        event_id = subject.event_id if subject and subject.event_id else _as_text(event.get("event_id"))
        if subject is not None:
            event_type: str | None = subject.event_type
        else:
            object_name, event_name = _as_text(event.get("object")), _as_text(event.get("event"))
            event_type = f"{object_name}.{event_name}" if object_name and event_name else None
        return NotificationIdentity(provider_event_id=event_id, provider_event_type=event_type, extracted=True)


def _as_text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _choose(events: list[dict[str, Any]], subject: NotificationSubject | None) -> dict[str, Any]:
    ids = {str(event["event_id"]).lower() for event in events}
    if subject is not None and subject.event_id is not None:
        wanted = subject.event_id.lower()
        for event in events:
            if str(event["event_id"]).lower() == wanted:
                return event
        raise MappingError(
            QuarantineReason.INVALID_EMAIL,
            f"event_id in the JSON ({', '.join(sorted(ids))}) differs from the subject's ({subject.event_id})",
        )
    if len(ids) > 1:
        raise MappingError(
            QuarantineReason.INVALID_EMAIL, f"several different events in one e-mail: {', '.join(sorted(ids))}"
        )
    return events[0]


def _candidate_texts(message: EmailMessage) -> tuple[list[str], list[str], list[str]]:
    """The decoded texts of the message's parts, grouped as (plain bodies, HTML bodies, JSON attachments)."""
    plain: list[str] = []
    html: list[str] = []
    attached: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        filename = (part.get_filename() or "").strip().lower()
        if fnmatch.fnmatchcase(filename, _ATTACHMENT_NAME) or content_type in _JSON_TYPES:
            attached.append(_part_text(part))
        elif part.get_content_disposition() == "attachment":
            continue  # logos, PDFs, other files: never where OpenSRS puts the event
        elif content_type == "text/plain":
            plain.append(_part_text(part))
        elif content_type == "text/html":
            html.append(_html_text(_part_text(part)))
    return plain, html, attached


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return _decode_bytes(payload, part.get_content_charset())


def _decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode with the declared charset, falling back gracefully when it is unknown or wrong.

    Mail software often labels UTF-8 text as Latin-1 (or labels nothing): bytes that are valid UTF-8 are almost
    never meant as Latin-1, so UTF-8 is tried first unless a charset outside the Latin-1 family is declared.
    Latin-1 decodes any byte string, so this never fails.
    """
    declared_name = _codec_name(declared)
    if declared_name is None or declared_name in _SINGLE_BYTE_LATIN:
        order = ["utf-8", declared_name or "cp1252", "cp1252", "latin-1"]
    else:
        order = [declared_name, "utf-8", "cp1252", "latin-1"]
    for charset in dict.fromkeys(order):
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # pragma: no cover - latin-1 is in `order` and maps every byte


def _codec_name(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        return codecs.lookup(charset.strip().strip('"')).name
    except LookupError:
        return None


_BREAKS = frozenset({"br", "p", "div", "tr", "li", "pre", "table", "h1", "h2", "h3", "blockquote"})
_SKIPPED = frozenset({"script", "style", "head", "title"})
_TAG_NAME = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)")


def _html_text(markup: str) -> str:
    """The text of an HTML body: entities unescaped, tags dropped, script, style, head and title skipped.

    A single forward scan (each `find` starts where the last ended), so its cost is linear in the markup:
    the standard library's `HTMLParser` is quadratic or worse on unclosed constructs (27 KB of `<a ` took 12 s)
    and raises `AssertionError` on some (`<![<![`). An unclosed comment or tag ends the text, as in a browser.
    """
    lower = markup.lower()
    chunks: list[str] = []
    pos, length = 0, len(markup)
    while pos < length:
        lt = markup.find("<", pos)
        if lt == -1:
            chunks.append(markup[pos:])
            break
        chunks.append(markup[pos:lt])
        if markup.startswith("<!--", lt):
            end = markup.find("-->", lt + 4)
            pos = length if end == -1 else end + 3
            continue
        tag = _TAG_NAME.match(markup, lt)
        if tag is None and not markup.startswith(("<!", "<?"), lt):
            chunks.append("<")  # a lone `<` in text
            pos = lt + 1
            continue
        gt = markup.find(">", lt + 1)
        if gt == -1:
            break
        pos = gt + 1
        name = tag[1].lower() if tag is not None else ""
        if name in _SKIPPED and not markup.startswith("</", lt):
            close = lower.find(f"</{name}", pos)
            pos = length if close == -1 else close
        elif name in _BREAKS:
            chunks.append("\n")
    # A non-breaking space (from &nbsp;) between JSON tokens is not JSON whitespace.
    return html.unescape("".join(chunks)).replace("\xa0", " ")


def _event_objects(text: str) -> tuple[list[dict[str, Any]], str | None]:
    """JSON objects holding `event_id` found in free text, and why decoding failed if none was found.

    The stdlib decoder is used (not orjson) because only it decodes one value from the middle of a text.
    A second pass tolerates what mail software does to long lines: hard wrapping and `>` quoting.
    """
    if "{" not in text:
        return [], None
    found, problem = _scan(text)
    if found:
        return found, None
    if problem is not None or _EVENT_ID_KEY in text:
        unwrapped = "".join(_QUOTE_MARKERS.sub("", text).splitlines())
        found, _ = _scan(unwrapped)
    return found, None if found else problem


def _scan(text: str) -> tuple[list[dict[str, Any]], str | None]:
    found: list[dict[str, Any]] = []
    # The error worth reporting is that of the last object opened before the first `"event_id"`: the event's own.
    key_at = text.find(_EVENT_ID_KEY)
    problem: str | None = None
    start = text.find("{")
    attempts = 0
    budget = _SCAN_BUDGET_FACTOR * len(text)  # characters all attempts together may read
    while start != -1 and attempts < _MAX_DECODE_ATTEMPTS and budget > 0:
        attempts += 1
        try:
            value, end = _DECODER.raw_decode(text, start)
            budget -= end - start
        except json.JSONDecodeError as error:
            budget -= error.pos - start
            # Braces in prose ("{name}") are not JSON objects gone wrong; `{"` is.
            if _OBJECT_START.match(text, start) and (problem is None or start < key_at):
                problem = f"holds no valid JSON object ({error.msg.removesuffix(' at')}, character {error.pos - start})"
            start = text.find("{", start + 1)
            continue
        except RecursionError:
            budget -= len(text) - start  # unknown how far it read: count the worst
            problem = "holds JSON nested too deeply to read"
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict) and "event_id" in value:
            found.append(value)
            start = text.find("{", end)
        else:
            start = text.find("{", start + 1)
    return found, problem
