"""The one reader of provider timestamps: ISO 8601 text or an already parsed datetime, always returned in UTC.

Zone-less times are UTC, as the providers send them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from regpipe.providers.mapper import MappingError, QuarantineReason

__all__ = ["parse_time", "time_value", "to_utc"]


def to_utc(value: datetime) -> datetime:
    """`value` in UTC (a zone-less time is taken as UTC); ValueError when it has no UTC equivalent."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:
        # e.g. 0001-01-01T00:00:00+01:00: valid ISO 8601, but before year 1 in UTC.
        raise ValueError("time out of range in UTC") from exc


def time_value(value: object) -> datetime:
    """`value` (ISO 8601 text or a datetime) in UTC; ValueError otherwise, with a message that never quotes it."""
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, str):
        text = value[:-1] + "+00:00" if value.endswith("Z") else value
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("not an ISO 8601 time") from None
        return to_utc(parsed)
    raise ValueError("not a time")


def parse_time(value: object, *, field: str) -> datetime | None:
    """`time_value` for a mapper: None or "" is no time; `SCHEMA_VIOLATION` (naming `field`) when unusable."""
    if value is None or value == "":
        return None
    try:
        return time_value(value)
    except ValueError as exc:
        raise MappingError(QuarantineReason.SCHEMA_VIOLATION, f"{field}: {exc}") from None
