"""The OpenSRS classifier never raises, whatever a mail holds (issue 12: one exception ended the IMAP parser and the
mail was read again at every start). Each identity either carries the event or says why not."""

from __future__ import annotations

import pytest

from regpipe.providers.opensrs.email import NotificationMailClassifier

_SUBJECT = b"Subject: Event notification: DOMAIN: DELETED: hostile-1\r\n"


def _nested(depth: int, content_type: bytes) -> bytes:
    opening = b"".join(
        b"Content-Type: " + content_type + b'; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(depth)
    )
    closing = b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))
    return (
        _SUBJECT
        + b"MIME-Version: 1.0\r\n"
        + opening
        + b'Content-Type: text/plain\r\n\r\n{"event_id": "hostile-1"}\r\n'
        + closing
    )


def _nested_messages(depth: int) -> bytes:
    inner = b'Content-Type: text/plain\r\n\r\n{"event_id": "hostile-1"}\r\n'
    for _ in range(depth):
        inner = b"Content-Type: message/rfc822\r\n\r\n" + inner
    return _SUBJECT + inner


HOSTILE = {
    "huge_integer": _SUBJECT + b'\r\n{"event_id": "hostile-1", "n": ' + b"7" * 5000 + b"}\r\n",
    "nested_multiparts": _nested(2000, b"multipart/mixed"),
    "nested_messages": _nested_messages(3000),
    "undecodable_header": _SUBJECT
    + b"From: =?x-unknown?b?////?=\r\nContent-Type: text/plain; charset=\xff\xfe\r\n\r\n{}",
    "binary": _SUBJECT + b"\r\n" + bytes(range(256)) * 40,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_identify_never_raises_and_says_why_it_found_no_event(name: str) -> None:
    identity = NotificationMailClassifier().identify(HOSTILE[name])
    assert identity.extracted is False
    assert identity.problem
    # The reason names no payload value: the 5,000 digits stay out of logs.
    assert "7777" not in identity.problem
