"""Reading OpenSRS notification e-mails: subjects, and the event JSON from every body shape mail software makes."""

from __future__ import annotations

import base64
import json
import time
from email import policy
from email.message import EmailMessage
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regpipe.providers.mapper import MappingError, QuarantineReason
from regpipe.providers.opensrs.email import (
    NotificationMailClassifier,
    NotificationSubject,
    extract_event,
    parse_subject,
    read_subject,
)

# The three examples of the seed document, verbatim.
SEED_EXAMPLES: list[tuple[str, str]] = [
    (
        "Event notification: DOMAIN: CREATED: 75675eb3d5010da7c8dbd1c638f7ca55",
        '{"object_data":{"domain_name":"domainregistered.com","domain_id":"38391945",'
        '"expiration_date":"2015-04-01T04:00:00Z"},"object":"DOMAIN","event_id":"75675eb3d5010da7c8dbd1c638f7ca55",'
        '"event":"CREATED","event_date":"2014-09-09T21:16:22Z"}',
    ),
    (
        "Event notification: TRANSFER: STATUS_CHANGE: 70ee0bd48660c737cc1b08501e214236",
        '{"object_data":{"domain_name":"domainregistered.com","transfer_id":"8646809","order_id":0,'
        '"transfer_status":"completed"},"object":"TRANSFER","event_id":"70ee0bd48660c737cc1b08501e214236",'
        '"event":"STATUS_CHANGE","event_date":"2014-09-09T21:16:23Z"}',
    ),
    (
        "Event notification: DOMAIN: NAMESERVER_UPDATE: dc3295cdca977bbd227fda140ca7f4dc",
        '{"object_data":{"domain_name":"domainregistered.com","domain_id":"38391945",'
        '"nameserver_list":["ns1.systemdns.com","ns2.systemdns.com"]},"object":"DOMAIN",'
        '"event_id":"dc3295cdca977bbd227fda140ca7f4dc","event":"NAMESERVER_UPDATE","event_date":"2014-09-09T21:17:48Z"}',
    ),
]

EVENT: dict[str, Any] = {
    "object_data": {"domain_name": "bücher-shop.de", "domain_id": "801743", "zone_check_status": "invalid"},
    "object": "DOMAIN",
    "event_id": "6887c7d3838dcaec7517c531df527bb7",
    "event": "ZONE_CHECK_STATUS_CHANGE",
    "event_date": "2014-05-27T19:29:25Z",
}
EVENT_JSON = json.dumps(EVENT, ensure_ascii=False)
SUBJECT = f"Event notification: DOMAIN: ZONE_CHECK_STATUS_CHANGE: {EVENT['event_id']}"


def _mail(subject: str | None = SUBJECT) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = "OpenSRS <do-not-reply@opensrs.example>"
    message["To"] = "tech@reseller.example"
    if subject is not None:
        message["Subject"] = subject
    return message


def _plain(text: str, *, subject: str | None = SUBJECT, charset: str = "utf-8", cte: str = "8bit") -> bytes:
    message = _mail(subject)
    message.set_content(text, charset=charset, cte=cte)
    return message.as_bytes()


def _raw(headers: str, body: bytes) -> bytes:
    """A message written byte by byte, for shapes the email package would not produce (wrong labels)."""
    return headers.replace("\n", "\r\n").encode() + b"\r\n" + body


def _reason(message: bytes) -> QuarantineReason:
    with pytest.raises(MappingError) as caught:
        extract_event(message)
    return caught.value.reason


# -- subjects ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("subject", "body"), SEED_EXAMPLES)
def test_seed_subjects_parse(subject: str, body: str) -> None:
    event = json.loads(body)
    assert parse_subject(subject) == NotificationSubject(event["object"], event["event"], event["event_id"])


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("event notification: domain: created: abc123", NotificationSubject("DOMAIN", "CREATED", "abc123")),
        ("  Event   notification :DOMAIN :  RENEWED :x1  ", NotificationSubject("DOMAIN", "RENEWED", "x1")),
        ("Event notification: DOMAIN:\r\n CREATED: abc", NotificationSubject("DOMAIN", "CREATED", "abc")),
        ("Fwd: Event notification: ORDER: STATUS_CHANGE: 9f", NotificationSubject("ORDER", "STATUS_CHANGE", "9f")),
        ("RE: FW: Event notification: ORDER: STATUS_CHANGE: 9f", NotificationSubject("ORDER", "STATUS_CHANGE", "9f")),
        ("[EXTERNAL] Event notification: DOMAIN: EXPIRED: 9f", NotificationSubject("DOMAIN", "EXPIRED", "9f")),
        ("Event notification: DOMAIN: CREATED", NotificationSubject("DOMAIN", "CREATED", None)),
        ("Event notification: DOMAIN: CREATED:", NotificationSubject("DOMAIN", "CREATED", None)),
        (
            "=?utf-8?q?Event_notification=3A_DOMAIN=3A_DELETED=3A_75675eb3?=",
            NotificationSubject("DOMAIN", "DELETED", "75675eb3"),
        ),
        (
            "=?UTF-8?B?" + base64.b64encode(b"Event notification: TRANSFER: STATUS_CHANGE: 70ee").decode() + "?=",
            NotificationSubject("TRANSFER", "STATUS_CHANGE", "70ee"),
        ),
    ],
)
def test_subject_variants_parse(subject: str, expected: NotificationSubject) -> None:
    assert parse_subject(subject) == expected


@pytest.mark.parametrize(
    "subject",
    [
        None,
        "",
        "Your monthly reseller newsletter",
        "Re: Event notification settings",
        "Event notification: please confirm your address",
        "Event notification: DOMAIN: CREATED: abc: extra",
        "Fwd: Invoice: DOMAIN: CREATED: abc",
        "=?x-unknown?q?garbage?=",
    ],
)
def test_other_subjects_are_not_notifications(subject: str | None) -> None:
    assert parse_subject(subject) is None


def test_event_type_joins_object_and_event() -> None:
    parsed = parse_subject(SUBJECT)
    assert parsed is not None
    assert parsed.event_type == "DOMAIN.ZONE_CHECK_STATUS_CHANGE"


def test_read_subject_decodes_an_encoded_subject_from_the_header_block_alone() -> None:
    header = b"From: a@b.example\r\nSubject: =?iso-8859-1?q?Caf=E9_=3A?=\r\n\r\n"
    assert read_subject(header) == "Café :"
    assert read_subject(b"From: a@b.example\r\n\r\nbody") is None


# -- the seed's examples ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("subject", "body"), SEED_EXAMPLES)
def test_seed_examples_extract_exactly(subject: str, body: str) -> None:
    assert extract_event(_plain(body, subject=subject, cte="7bit")) == json.loads(body)


# -- body shapes -------------------------------------------------------------------------------------------------


def test_json_surrounded_by_greeting_and_footer_text() -> None:
    text = (
        "Hello {reseller},\n\nAn event occurred (see {details} below):\n\n"
        f"{EVENT_JSON}\n\n-- \nRegards, the {{OpenSRS}} team\n"
    )
    assert extract_event(_plain(text)) == EVENT


def test_pretty_printed_json() -> None:
    assert extract_event(_plain("Event:\n" + json.dumps(EVENT, indent=4, ensure_ascii=False))) == EVENT


@pytest.mark.parametrize("cte", ["quoted-printable", "base64", "8bit"])
def test_transfer_encodings(cte: str) -> None:
    assert extract_event(_plain(f"Hi,\n{EVENT_JSON}\nBye", cte=cte)) == EVENT


def test_latin1_body_with_non_ascii_text() -> None:
    message = _plain(f"Voici l'événement :\n{EVENT_JSON}\nÀ bientôt", charset="iso-8859-1", cte="quoted-printable")
    assert b"=FC" in message  # the ü of the domain, in Latin-1
    assert extract_event(message) == EVENT


def test_utf8_bytes_labelled_latin1_are_read_as_utf8() -> None:
    message = _raw(
        f"Subject: {SUBJECT}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\n"
        "Content-Transfer-Encoding: 8bit\n",
        f"Grüße\r\n{EVENT_JSON}\r\n".encode(),
    )
    assert extract_event(message)["object_data"]["domain_name"] == "bücher-shop.de"


def test_cp1252_bytes_labelled_utf8_fall_back() -> None:
    message = _raw(
        f"Subject: {SUBJECT}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n",
        f"\u201cQuoted\u201d greeting\r\n{EVENT_JSON}\r\n".encode("cp1252"),
    )
    assert extract_event(message)["object_data"]["domain_name"] == "bücher-shop.de"


def test_unknown_charset_label_falls_back() -> None:
    message = _raw(
        f"Subject: {SUBJECT}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=x-no-such-charset\n"
        "Content-Transfer-Encoding: 8bit\n",
        f"{EVENT_JSON}\r\n".encode(),
    )
    assert extract_event(message) == EVENT


def test_html_only_with_entities_autolinks_and_nbsp() -> None:
    escaped = (
        EVENT_JSON.replace("&", "&amp;")
        .replace('"', "&quot;")
        .replace("bücher-shop.de", '<a href="http://xn--bcher-shop-9db.de">b&uuml;cher-shop.de</a>')
        .replace(",", ",&nbsp;")
    )
    markup = (
        '<html><head><style>p { color: red }</style><script>var x = {"event_id": 1};</script></head>'
        f"<body><p>Hello,</p><pre>{escaped}</pre><p>Bye</p></body></html>"
    )
    message = _mail()
    message.set_content(markup, subtype="html", cte="quoted-printable")
    assert extract_event(message.as_bytes()) == EVENT


def test_multipart_alternative_prefers_the_plain_part() -> None:
    message = _mail()
    message.set_content(f"Event:\n{EVENT_JSON}\n")
    message.add_alternative(f"<p>Event:</p><pre>{EVENT_JSON}</pre>", subtype="html")
    assert extract_event(message.as_bytes()) == EVENT


def test_multipart_alternative_whose_plain_part_lacks_the_json_uses_the_html_part() -> None:
    message = _mail()
    message.set_content("Your mail client cannot show this message; view it as HTML.\n")
    message.add_alternative(f"<p>Event:</p><div>{EVENT_JSON}</div>", subtype="html", cte="base64")
    assert extract_event(message.as_bytes()) == EVENT


@pytest.mark.parametrize(
    ("filename", "maintype", "subtype"),
    [
        ("event_data.json", "application", "json"),
        ("event_data_6887c7d3.json", "application", "octet-stream"),
        ("EVENT_DATA.JSON", "text", "plain"),
        ("payload.json", "application", "json"),
    ],
)
def test_json_attachment_in_multipart_mixed(filename: str, maintype: str, subtype: str) -> None:
    message = _mail()
    message.set_content("Hello,\nthe event data is attached.\n")
    message.add_attachment(b"\x89PNG\r\n\x1a\n{not json", maintype="image", subtype="png", filename="logo.png")
    message.add_attachment(EVENT_JSON.encode(), maintype=maintype, subtype=subtype, filename=filename)
    raw = message.as_bytes()
    assert b"multipart/mixed" in raw
    assert extract_event(raw) == EVENT


def test_attachment_with_rfc2231_encoded_filename() -> None:
    message = _mail()
    message.set_content("See attachment.")
    message.add_attachment(
        EVENT_JSON.encode(), maintype="application", subtype="octet-stream", filename=("utf-8", "", "event_data_é.json")
    )
    assert extract_event(message.as_bytes()) == EVENT


def test_nested_multiparts_and_a_forwarded_message() -> None:
    inner = _mail()
    inner.set_content(f"Original notification:\n{EVENT_JSON}\n")
    outer = _mail(f"Fwd: {SUBJECT}")
    outer.set_content("FYI, see the forwarded message.")
    outer.add_attachment(inner)
    assert extract_event(outer.as_bytes()) == EVENT


def test_hard_wrapped_and_quoted_json_is_unwrapped() -> None:
    wrapped = "\n".join("> " + EVENT_JSON[i : i + 60] for i in range(0, len(EVENT_JSON), 60))
    assert extract_event(_plain(f"On Monday OpenSRS wrote:\n{wrapped}\n", subject=f"Re: {SUBJECT}")) == EVENT


def test_event_wrapped_in_another_object_is_found() -> None:
    assert extract_event(_plain(json.dumps({"notification": EVENT}))) == EVENT


def test_same_event_in_plain_and_html_is_not_ambiguous() -> None:
    message = _mail(subject=None)
    message.set_content(EVENT_JSON)
    message.add_alternative(f"<pre>{EVENT_JSON}</pre>", subtype="html")
    assert extract_event(message.as_bytes()) == EVENT


def test_subject_without_event_id_takes_the_jsons() -> None:
    assert extract_event(_plain(EVENT_JSON, subject="Event notification: DOMAIN: ZONE_CHECK_STATUS_CHANGE")) == EVENT


def test_event_id_comparison_ignores_case() -> None:
    assert extract_event(_plain(EVENT_JSON, subject=SUBJECT.upper())) == EVENT


def test_of_several_events_the_one_named_by_the_subject_is_taken() -> None:
    other = {**EVENT, "event_id": "0" * 32}
    assert extract_event(_plain(f"{json.dumps(other)}\n{EVENT_JSON}")) == EVENT


# -- refusals ----------------------------------------------------------------------------------------------------


def test_event_id_mismatch_between_subject_and_json_is_refused() -> None:
    subject = "Event notification: DOMAIN: ZONE_CHECK_STATUS_CHANGE: ffffffffffffffffffffffffffffffff"
    with pytest.raises(MappingError) as caught:
        extract_event(_plain(EVENT_JSON, subject=subject))
    assert caught.value.reason is QuarantineReason.INVALID_EMAIL
    assert "differs from the subject" in caught.value.message
    assert EVENT["event_id"] in caught.value.message


def test_several_different_events_without_subject_id_are_ambiguous() -> None:
    other = {**EVENT, "event_id": "0" * 32}
    message = _plain(f"{json.dumps(other)}\n{EVENT_JSON}", subject=None)
    with pytest.raises(MappingError, match="several different events"):
        extract_event(message)


@pytest.mark.parametrize(
    "body",
    [
        EVENT_JSON[:-20],  # cut short
        EVENT_JSON.replace('"object":', '"object":,'),  # a stray comma
        EVENT_JSON.replace('"DOMAIN"', "'DOMAIN'"),  # single quotes
    ],
)
def test_malformed_json_is_invalid_json(body: str) -> None:
    assert _reason(_plain(f"Hello,\n{body}\nBye")) is QuarantineReason.INVALID_JSON


def test_malformed_json_message_says_what_is_wrong() -> None:
    with pytest.raises(MappingError, match=r"no valid JSON object \(Expecting"):
        extract_event(_plain(EVENT_JSON.replace('"object":', '"object":,')))


def test_non_event_mail_is_invalid_email() -> None:
    message = _plain("Your invoice is ready. Amount due: {amount}.", subject="Invoice 2025-0142")
    with pytest.raises(MappingError, match="non-notification e-mail") as caught:
        extract_event(message)
    assert caught.value.reason is QuarantineReason.INVALID_EMAIL
    assert "Invoice" not in caught.value.message  # the sender's subject is not quoted (issue 12)


def test_notification_without_any_json_is_invalid_email() -> None:
    assert _reason(_plain("Something happened, log in to see it.")) is QuarantineReason.INVALID_EMAIL


def test_json_without_event_id_is_not_an_event() -> None:
    assert _reason(_plain('{"note": "not an event", "event": "CREATED"}')) is QuarantineReason.INVALID_EMAIL


def test_json_only_in_a_non_json_attachment_is_not_looked_at() -> None:
    message = _mail()
    message.set_content("See the attached report.")
    message.add_attachment(EVENT_JSON.encode(), maintype="application", subtype="pdf", filename="report.pdf")
    assert _reason(message.as_bytes()) is QuarantineReason.INVALID_EMAIL


def test_an_inline_body_part_with_a_name_is_still_the_body() -> None:
    message = _raw(
        f"Subject: {SUBJECT}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8; name=notification.txt\n"
        "Content-Transfer-Encoding: 8bit\n",
        f"{EVENT_JSON}\r\n".encode(),
    )
    assert extract_event(message) == EVENT


def test_a_text_attachment_with_another_event_is_not_mistaken_for_the_body() -> None:
    message = _mail("Event notification: DOMAIN: ZONE_CHECK_STATUS_CHANGE")  # no id: two events would be ambiguous
    message.set_content(EVENT_JSON)
    other = json.dumps({**EVENT, "event_id": "0" * 32})
    message.add_attachment(other.encode(), maintype="text", subtype="plain", filename="earlier.txt")
    assert extract_event(message.as_bytes()) == EVENT


def test_bytes_that_are_no_mail_at_all() -> None:
    assert _reason(b"") is QuarantineReason.INVALID_EMAIL
    assert _reason(b"\x00\xff\xfe garbage") is QuarantineReason.INVALID_EMAIL


def test_deeply_nested_json_does_not_crash() -> None:
    bomb = '{"event_id": "x", "a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert _reason(_plain(bomb, subject=None, cte="base64")) is QuarantineReason.INVALID_JSON


def test_brace_flood_is_bounded() -> None:
    flood = '{"k": "' * 20_000 + '"event_id"'
    started = time.monotonic()
    with pytest.raises(MappingError):
        extract_event(_plain(flood, subject=None, cte="base64"))
    assert time.monotonic() - started < 5


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_give_an_event_or_a_mapping_error(data: bytes) -> None:
    reason: QuarantineReason | None = None
    try:
        event = extract_event(data)
    except MappingError as error:
        reason = error.reason
    else:
        assert "event_id" in event
    assert reason in {None, QuarantineReason.INVALID_EMAIL, QuarantineReason.INVALID_JSON}


_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="{}\r"), max_size=200)


@settings(max_examples=100, deadline=None)
@given(before=_TEXT, after=_TEXT, domain=st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s))
def test_event_is_found_whatever_text_surrounds_it(before: str, after: str, domain: str) -> None:
    event = {**EVENT, "object_data": {**EVENT["object_data"], "domain_name": domain}}
    body = orjson.dumps(event).decode()
    assert extract_event(_plain(f"{before}\n{body}\n{after}", cte="base64")) == event


# -- the classifier the IMAP parser uses ---------------------------------------------------------------------------


def test_classifier_wants_notifications_by_their_header_block() -> None:
    classifier = NotificationMailClassifier()
    header = _plain(EVENT_JSON).split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    assert classifier.wants(header)
    assert not classifier.wants(b"Subject: Invoice 2025-0142\r\n\r\n")


def test_classifier_identifies_from_subject_and_json() -> None:
    identity = NotificationMailClassifier().identify(_plain(EVENT_JSON))
    assert (identity.provider_event_id, identity.provider_event_type, identity.extracted) == (
        EVENT["event_id"],
        "DOMAIN.ZONE_CHECK_STATUS_CHANGE",
        True,
    )


def test_classifier_falls_back_to_the_json_when_the_subject_has_no_id() -> None:
    identity = NotificationMailClassifier().identify(_plain(EVENT_JSON, subject="Event notification: DOMAIN: X"))
    assert identity.provider_event_id == EVENT["event_id"]
    assert identity.provider_event_type == "DOMAIN.X"


def test_classifier_reports_unextractable_notifications_without_raising() -> None:
    identity = NotificationMailClassifier().identify(_plain(EVENT_JSON[:40]))
    assert identity.extracted is False
    assert identity.provider_event_id == EVENT["event_id"]
    assert identity.problem is not None


# -- hostile mail: bounded CPU, no exception but MappingError (issue 12) -------------------------------------------


def _nested_multiparts(depth: int) -> bytes:
    """A notification whose event sits `depth` multipart containers deep (~950 levels made the parser recurse)."""
    opening = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth))
    closing = "".join(f"\r\n--b{i}--" for i in reversed(range(depth)))
    body = f"{opening}Content-Type: text/plain; charset=utf-8\r\n\r\n{EVENT_JSON}{closing}\r\n"
    return f"Subject: {SUBJECT}\r\nMIME-Version: 1.0\r\n".encode() + body.encode()


@pytest.mark.parametrize("depth", [950, 1200])
def test_deeply_nested_multiparts_are_nesting_too_deep(depth: int) -> None:
    # ~950 levels (~65 KB) raised RecursionError out of identify and the mapper, depending on the caller's stack.
    message = _nested_multiparts(depth)
    assert 50_000 < len(message) < 100_000
    assert _reason(message) is QuarantineReason.NESTING_TOO_DEEP
    identity = NotificationMailClassifier().identify(message)
    assert identity.extracted is False
    assert identity.provider_event_id == EVENT["event_id"]


def test_a_few_nested_multiparts_are_still_read() -> None:
    assert extract_event(_nested_multiparts(10)) == EVENT


@pytest.mark.parametrize("unit", ["<a ", '<a x="', "<!--", "</", "<?", "<![", "<script>"])
def test_hostile_html_is_read_in_bounded_time(unit: str) -> None:
    # 844 KB of HTML: the standard HTMLParser took 12 s for 27 KB of `<a ` (worse than quadratic), and raised
    # AssertionError on `<![`; the reader is linear and the mail simply holds no event.
    message = _mail()
    message.set_content(unit * (844_000 // len(unit)), subtype="html", cte="base64")
    started = time.monotonic()
    assert _reason(message.as_bytes()) is QuarantineReason.INVALID_EMAIL
    assert NotificationMailClassifier().identify(message.as_bytes()).extracted is False
    assert time.monotonic() - started < 10  # generous for a loaded machine: it takes well under a second


def test_html_text_keeps_lone_angle_brackets_and_drops_unclosed_comments() -> None:
    message = _mail()
    message.set_content(f"<p>1 < 2</p><pre>{EVENT_JSON}</pre><!-- unclosed {EVENT_JSON}", subtype="html")
    assert extract_event(message.as_bytes()) == EVENT


def test_json_scan_reads_a_bounded_number_of_characters() -> None:
    # Nested openers before a long unterminated string: every attempt would read to the end of the text.
    flood = '{"a":' * 900 + '"' + "x" * 800_000
    started = time.monotonic()
    assert _reason(_plain(flood, subject=None, cte="base64")) is QuarantineReason.INVALID_JSON
    assert time.monotonic() - started < 10
