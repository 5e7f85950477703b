"""Decoding the records of `registrar.events.v1` for the aggregator: canonical events to apply, and the rest counted.

Never raises on record content: the pipeline's own events (transport `pipeline`) are skipped so the aggregator does
not feed on its output, a type this version does not know is counted and skipped (a newer producer), and a record
that is not a canonical event at all is counted as invalid and skipped; none of them stalls the stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from regpipe.aggregate.fold import is_own
from regpipe.contract import CanonicalEvent, EventType, RecordDecodeError, from_kafka_record

__all__ = ["Intake", "Skipped", "decode_records"]

_KNOWN_TYPES = frozenset(t.value for t in EventType)


class Skipped(StrEnum):
    """Why a record was not applied."""

    OWN = "own"
    UNKNOWN_TYPE = "unknown_type"
    INVALID = "invalid"


@dataclass
class Intake:
    """The events of a batch to apply, and how many records were skipped and why."""

    events: list[CanonicalEvent] = field(default_factory=list)
    skipped: dict[Skipped, int] = field(default_factory=lambda: dict.fromkeys(Skipped, 0))


def _header(headers: Sequence[tuple[str, bytes]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("utf-8", errors="replace")
    return None


def decode_records(records: Iterable[Any]) -> Intake:
    """Split consumer records (with `.value` and `.headers`) into events to apply and skip counts."""
    intake = Intake()
    for record in records:
        headers = list(record.headers or ())
        event_type = _header(headers, "ce_type")
        if event_type is not None and event_type not in _KNOWN_TYPES:
            intake.skipped[Skipped.UNKNOWN_TYPE] += 1
            continue
        try:
            event = from_kafka_record(record.value or b"", headers)
        except RecordDecodeError:
            intake.skipped[Skipped.INVALID] += 1
            continue
        if is_own(event):
            intake.skipped[Skipped.OWN] += 1
            continue
        intake.events.append(event)
    return intake
