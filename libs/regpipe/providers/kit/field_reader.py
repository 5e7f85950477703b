"""Reading a flat provider object field by field, so that whatever the mapper did not read is kept, not lost.

Values are read as text the way an XML-and-JSON provider needs it: the XML route carries only strings and
cannot tell an empty string from an absent value, the JSON route carries numbers; both read the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from pydantic import JsonValue

from regpipe.providers.kit.domains import payload_domain
from regpipe.providers.kit.times import parse_time
from regpipe.providers.mapper import MappingError, QuarantineReason

__all__ = ["FieldReader", "as_text"]

_MAX_COUNT: Final = 10_000  # far beyond any registration period in years


def as_text(value: object, key: str) -> str | None:
    """A scalar as text; empty is None, because XML cannot tell an empty string from an absent value."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise MappingError(QuarantineReason.SCHEMA_VIOLATION, f"{key}: expected text, got {type(value).__name__}")


class FieldReader:
    """Reads an object field by field and remembers what it read; `unread()` is the rest, for `provider_fields`."""

    def __init__(self, data: Mapping[str, JsonValue]) -> None:
        self._data = data
        self._read: set[str] = set()

    def text(self, key: str) -> str | None:
        """The field as text (None when absent or empty)."""
        self._read.add(key)
        return as_text(self._data.get(key), key)

    def identifier(self, key: str) -> str | None:
        """An id; 0 (as OpenSRS writes where there is none) is None."""
        value = self.text(key)
        return None if value is None or value == "0" else value

    def time(self, key: str) -> datetime | None:
        """The field as a UTC time."""
        return parse_time(self.text(key), field=key)

    def integer(self, key: str) -> int | None:
        """The field as a small integer (a count of years, say); larger values are a schema violation."""
        value = self.text(key)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:  # also for 4,300+ digits, which int() refuses to read
            raise MappingError(QuarantineReason.SCHEMA_VIOLATION, f"{key}: not an integer") from None
        if abs(number) > _MAX_COUNT:  # JSON e-mails can carry any integer; Kafka records carry 64 bits
            raise MappingError(QuarantineReason.SCHEMA_VIOLATION, f"{key}: out of range")
        return number

    def host_names(self, key: str) -> list[str]:
        """A list of host names, normalised (lower case, no trailing dot)."""
        self._read.add(key)
        value = self._data.get(key)
        if value is None or value == "":
            return []
        if not isinstance(value, list):
            raise MappingError(QuarantineReason.SCHEMA_VIOLATION, f"{key}: expected a list of host names")
        names = [as_text(item, key) for item in value]
        return [name.strip().rstrip(".").lower() for name in names if name]

    def domain(self, key: str) -> str | None:
        """The field as a normalised domain name; `INVALID_DOMAIN` when it is not one."""
        return payload_domain(self.text(key), field=key)

    def unread(self) -> dict[str, JsonValue]:
        """The fields not read so far, verbatim."""
        return {key: value for key, value in self._data.items() if key not in self._read}
