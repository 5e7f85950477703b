"""Parsing the read API's parameters: opaque cursors, durations like `7d`, domain names in either IDN form."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import timedelta
from typing import Any

import idna
import orjson

from regpipe.aggregate.read.errors import BadQueryError
from regpipe.contract import InvalidDomainNameError, normalize_domain

__all__ = ["decode_cursor", "encode_cursor", "parse_domain", "parse_duration", "unicode_name"]

_DURATION = re.compile(r"^(\d{1,6})([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def encode_cursor(values: list[Any]) -> str:
    """An opaque cursor holding the sort key of the last item returned."""
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The sort key in `cursor`; `BadQueryError` unless it is one this API made (a list of `size` strings)."""
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise BadQueryError("cursor is not one this API returned") from exc
    if not isinstance(values, list) or len(values) != size or not all(isinstance(v, str) for v in values):
        raise BadQueryError("cursor is not one this API returned")
    return values


def parse_duration(text: str) -> timedelta:
    """`30s`, `15m`, `12h`, `7d`, `2w` as a duration."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise BadQueryError(f"duration {text!r} must look like 7d, 12h, 30m, 45s or 2w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_domain(name: str) -> str:
    """The stored (IDNA, lower-case) form of a domain given in Unicode or punycode form."""
    try:
        return normalize_domain(name)
    except InvalidDomainNameError as exc:
        raise BadQueryError(str(exc)) from exc


def unicode_name(name: str) -> str:
    """The Unicode form of a stored name (the name itself when it is not valid IDNA)."""
    try:
        return idna.decode(name)
    except idna.IDNAError:
        return name
