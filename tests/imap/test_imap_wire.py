"""IMAP wire formats: UID sets, quoting, and FETCH/SEARCH/SELECT responses in the shapes aioimaplib returns."""

from __future__ import annotations

import pytest

from regpipe.imap.wire import parse_fetch, parse_search, parse_uidvalidity, quote, uid_set


@pytest.mark.parametrize(
    ("uids", "expected"),
    [
        ([5], "5"),
        ([1, 2, 3], "1:3"),
        ([10, 1, 2, 3, 7, 9], "1:3,7,9:10"),
        ([4, 4, 5], "4:5"),
    ],
)
def test_uid_set_compresses_runs(uids: list[int], expected: str) -> None:
    assert uid_set(uids) == expected


def test_uid_set_refuses_nothing() -> None:
    with pytest.raises(ValueError, match="empty"):
        uid_set([])


def test_quote_escapes_quotes_and_backslashes_and_refuses_line_breaks() -> None:
    assert quote('Pro"cessed\\x') == '"Pro\\"cessed\\\\x"'
    with pytest.raises(ValueError, match="CR, LF"):
        quote("a\r\nA1 DELETE INBOX")


def test_parse_search() -> None:
    assert parse_search([b"1 2 17", b"Search completed (0.001 + 0.000 secs)."]) == [1, 2, 17]
    assert parse_search([b"", b"Search completed."]) == []


def test_parse_fetch_with_uid_before_and_after_the_literal() -> None:
    lines: list[bytes | bytearray] = [
        b"1 FETCH (UID 7 BODY[] {5}",
        bytearray(b"hello"),
        b")",
        b"2 FETCH (FLAGS (\\Seen))",  # an unsolicited flag update: no literal
        b"3 FETCH (BODY[] {3}",
        bytearray(b"abc"),
        b" UID 9)",
        b"Fetch completed.",
    ]
    assert parse_fetch(lines) == {7: b"hello", 9: b"abc"}


def test_parse_fetch_literal_holding_fetch_like_text() -> None:
    body = bytearray(b"* 4 FETCH (UID 99 BODY[] {2}\r\nzz\r\n")
    lines: list[bytes | bytearray] = [b"1 FETCH (UID 3 BODY[] {%d}" % len(body), body, b")", b"done"]
    assert parse_fetch(lines) == {3: bytes(body)}


def test_parse_uidvalidity() -> None:
    lines = [b"2 EXISTS", b"OK [UIDVALIDITY 1795507871] UIDs valid", b"[READ-WRITE] Select completed."]
    assert parse_uidvalidity(lines) == 1795507871
    assert parse_uidvalidity([b"Select completed."]) is None
