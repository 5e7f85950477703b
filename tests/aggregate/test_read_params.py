"""The read API's parameters: cursors round-trip and refuse forgeries, durations and IDN names parse or fail as
422-type errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from regpipe.aggregate.read.errors import BadQueryError
from regpipe.aggregate.read.params import decode_cursor, encode_cursor, parse_domain, parse_duration, unicode_name


def test_a_cursor_round_trips() -> None:
    assert decode_cursor(encode_cursor(["a.example", "opensrs", ""]), 3) == ["a.example", "opensrs", ""]


@pytest.mark.parametrize("cursor", ["!!!", encode_cursor(["only-one"]), encode_cursor([1, 2, 3]), "e30"])
def test_a_cursor_this_api_did_not_make_is_refused(cursor: str) -> None:
    with pytest.raises(BadQueryError):
        decode_cursor(cursor, 3)


def test_durations() -> None:
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration("12h") == timedelta(hours=12)
    for bad in ("7", "d7", "soon", "-1d", "7 days"):
        with pytest.raises(BadQueryError):
            parse_duration(bad)


def test_domain_names_in_either_form() -> None:
    assert parse_domain("Bücher.Example") == parse_domain("xn--bcher-kva.example") == "xn--bcher-kva.example"
    assert unicode_name("xn--bcher-kva.example") == "bücher.example"
    with pytest.raises(BadQueryError):
        parse_domain("   ")
