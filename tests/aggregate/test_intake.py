"""Decoding consumed records: canonical events are applied; the pipeline's own events, unknown types and records
that are not canonical events are counted and skipped, never raised."""

from __future__ import annotations

from dataclasses import dataclass

from regpipe.aggregate.intake import Skipped, decode_records
from regpipe.contract import EventType, Source, Transport, to_kafka_record
from tests.aggregate.events import domain_event


@dataclass
class _Record:
    value: bytes | None
    headers: list[tuple[str, bytes]]


def test_records_are_split_into_events_and_counted_skips() -> None:
    event = domain_event("a", Source.OPENSRS, EventType.DOMAIN_REGISTERED, "a.example", minute=1)
    own = event.model_copy(update={"transport": Transport.PIPELINE})
    good, mine = to_kafka_record(event), to_kafka_record(own)
    intake = decode_records(
        [
            _Record(good.value, good.headers),
            _Record(mine.value, mine.headers),
            _Record(b"{}", [("ce_type", b"domain.teleported")]),
            _Record(b"not json", list(good.headers)),
            _Record(None, []),
        ]
    )
    assert [e.id for e in intake.events] == [event.id]
    assert intake.skipped == {Skipped.OWN: 1, Skipped.UNKNOWN_TYPE: 1, Skipped.INVALID: 2}
