"""The one reader of provider timestamps: ISO 8601 text, or a number read in the unit the provider's contract names.

A number is never read by its size (pydantic's default reads anything above 2e10 as milliseconds, so the seconds
253402300799, 9999-12-31, became 1978): each provider states how its numbers are to be read (`NumericTime`), and
a provider whose contract documents ISO 8601 text only gets a schema violation for a number rather than a guess.
Zone-less times are UTC, as the providers send them; every time is returned in UTC. Payload models use the
`IsoTime` / `IsoOrUnixSecondsTime` types, mappers `parse_time`: both are this one parser.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Final

from pydantic import BeforeValidator

from regpipe.providers.mapper import MappingError, QuarantineReason

__all__ = ["IsoOrUnixSecondsTime", "IsoTime", "NumericTime", "parse_time", "time_value", "to_utc"]

#: Text that is only a number: pydantic reads "1700000000" as a Unix time too, so it is a number here as well.
_NUMBER_TEXT: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


class NumericTime(Enum):
    """How a provider's contract says a numeric timestamp is to be read."""

    REFUSED = "refused"  # the contract documents ISO 8601 text only: a number is not a time of this provider
    UNIX_SECONDS = "unix_seconds"


def to_utc(value: datetime) -> datetime:
    """`value` in UTC (a zone-less time is taken as UTC); ValueError when it has no UTC equivalent."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:
        # e.g. 0001-01-01T00:00:00+01:00: valid ISO 8601, but before year 1 in UTC.
        raise ValueError("time out of range in UTC") from exc


def time_value(value: object, numbers: NumericTime = NumericTime.REFUSED) -> datetime:
    """`value` (ISO 8601 text, a datetime, or a number read as `numbers` says) in UTC.

    ValueError otherwise, with a message that never quotes the value.
    """
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, str) and not _NUMBER_TEXT.fullmatch(value):
        text = value[:-1] + "+00:00" if value.endswith("Z") else value
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("not an ISO 8601 time") from None
        return to_utc(parsed)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("not a time")
    if numbers is NumericTime.REFUSED:
        raise ValueError("a number, where the provider's contract documents an ISO 8601 time")
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError("a Unix time in seconds outside the calendar") from None


def parse_time(value: object, *, field: str, numbers: NumericTime = NumericTime.REFUSED) -> datetime | None:
    """`time_value` for a mapper: None or "" is no time; `SCHEMA_VIOLATION` (naming `field`) when unusable."""
    if value is None or value == "":
        return None
    try:
        return time_value(value, numbers)
    except ValueError as exc:
        raise MappingError(QuarantineReason.SCHEMA_VIOLATION, f"{field}: {exc}") from None


def _iso(value: object) -> datetime:
    return time_value(value, NumericTime.REFUSED)


def _iso_or_unix_seconds(value: object) -> datetime:
    return time_value(value, NumericTime.UNIX_SECONDS)


#: A payload time its provider documents as ISO 8601 text (a number is refused), in UTC.
IsoTime = Annotated[datetime, BeforeValidator(_iso)]
#: A payload time as ISO 8601 text or a number of Unix seconds (whatever its size), in UTC.
IsoOrUnixSecondsTime = Annotated[datetime, BeforeValidator(_iso_or_unix_seconds)]
