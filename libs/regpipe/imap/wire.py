"""IMAP wire formats the parser needs: UID sets, quoted strings, and the FETCH/SEARCH/SELECT responses as
aioimaplib hands them over (a list of lines, literals as bytearrays, the tagged status text last). Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = ["parse_fetch", "parse_search", "parse_uidvalidity", "quote", "uid_set"]

_FETCH_START = re.compile(rb"^\d+ FETCH \(")
_UID = re.compile(rb"\bUID (\d+)")
_LITERAL_AT_END = re.compile(rb"\{(\d+)\}$")
_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")

#: A response line as aioimaplib gives it: text lines as bytes, literal data as bytearray.
Line = bytes | bytearray


def quote(value: str) -> str:
    """An IMAP quoted string (RFC 3501 section 9)."""
    if "\r" in value or "\n" in value or "\x00" in value:
        raise ValueError("CR, LF and NUL cannot be quoted in IMAP")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def uid_set(uids: Iterable[int]) -> str:
    """`1:3,7,9:10` for [1, 2, 3, 7, 9, 10]: short command lines for large batches."""
    ordered = sorted(set(uids))
    if not ordered:
        raise ValueError("an IMAP UID set cannot be empty")
    ranges: list[str] = []
    first = last = ordered[0]
    for uid in ordered[1:]:
        if uid == last + 1:
            last = uid
            continue
        ranges.append(str(first) if first == last else f"{first}:{last}")
        first = last = uid
    ranges.append(str(first) if first == last else f"{first}:{last}")
    return ",".join(ranges)


def parse_search(lines: Sequence[Line]) -> list[int]:
    """The UIDs of a (UID) SEARCH response: every number on the untagged lines before the status text."""
    uids: list[int] = []
    for line in lines[:-1]:
        uids.extend(int(token) for token in bytes(line).split() if token.isdigit())
    return uids


def parse_fetch(lines: Sequence[Line]) -> dict[int, bytes]:
    """UID -> literal data of a UID FETCH of one body section per message.

    The UID may come before the literal (`* 1 FETCH (UID 7 BODY[] {42}`) or after it (`BODY[] {42} ... UID 7)`);
    FETCH lines without a literal (unsolicited flag updates) are skipped.
    """
    found: dict[int, bytes] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if isinstance(line, bytearray) or not _FETCH_START.match(line) or not _LITERAL_AT_END.search(line):
            continue
        if index >= len(lines) or not isinstance(lines[index], bytearray):
            continue
        literal = bytes(lines[index])
        index += 1
        uid = _UID.search(line)
        if uid is None and index < len(lines) and not isinstance(lines[index], bytearray):
            uid = _UID.search(lines[index])
        if uid is not None:
            found[int(uid.group(1))] = literal
    return found


def parse_uidvalidity(lines: Sequence[Line]) -> int | None:
    """The UIDVALIDITY a SELECT reported, if any."""
    for line in lines:
        match = _UIDVALIDITY.search(bytes(line))
        if match is not None:
            return int(match.group(1))
    return None
