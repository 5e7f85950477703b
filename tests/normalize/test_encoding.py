"""The envelope's headers are exactly its JSON-mode dump and the value its data's, byte for byte, and assembled
events equal validated ones, over simulated traffic of every event type of Most and Cold Mail, corrections
included: the guard any faster encoding or assembly has to pass (`benchmarks/normalizer/README.md` lists what was
kept and what was dropped)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from benchmarks.normalizer.records import generate
from regpipe.contract.cloudevents import KafkaRecord, to_kafka_record, to_normalized_record
from regpipe.contract.envelope import CanonicalEvent
from regpipe.contract.sealing import RawSealer
from regpipe.normalize import Mapped, Processor, default_mappers
from regpipe.streaming import RawRecord


def _reference(event: CanonicalEvent) -> KafkaRecord:
    """The encoding as it was written first: from `model_dump(mode="json")` of the envelope."""
    headers: list[tuple[str, bytes]] = []
    for field, value in event.model_dump(mode="json", exclude={"data", "lineage"}).items():
        if value is None:
            continue
        if field == "datacontenttype":
            headers.append(("content-type", str(value).encode()))
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        headers.append(("ce_" + field.replace("_", ""), text.encode()))
    if event.lineage is not None:
        headers.append(("ce_rawtopic", event.lineage.topic.encode()))
        headers.append(("ce_rawpartition", str(event.lineage.partition).encode()))
        headers.append(("ce_rawoffset", str(event.lineage.offset).encode()))
    value = orjson.dumps(event.data.model_dump(mode="json"))
    return KafkaRecord(key=event.partition_key.encode(), value=value, headers=headers)


def _events() -> list[CanonicalEvent]:
    processor = Processor(default_mappers(), RawSealer({}, None))
    events: list[CanonicalEvent] = []
    for index, spec in enumerate(generate(1500, seed=3)):
        result = processor.process(RawRecord("raw", index % 6, index, spec.key, spec.value, spec.headers))
        if isinstance(result, Mapped):
            events.extend(result.events)
    return events


_EVENTS = _events()


def test_the_corpus_covers_many_event_types() -> None:
    assert len({event.type for event in _EVENTS}) >= 10


@pytest.mark.parametrize("correction", [False, True])
def test_headers_are_those_of_the_json_mode_dump(correction: bool) -> None:
    for event in _EVENTS:
        if correction:
            event = event.model_copy(update={"correction": True})
        assert to_kafka_record(event) == _reference(event)


def test_normalized_records_are_keyed_by_the_id_with_the_same_headers_and_value() -> None:
    for event in _EVENTS:
        reference = _reference(event)
        expected = KafkaRecord(key=str(event.id).encode(), value=reference.value, headers=reference.headers)
        assert to_normalized_record(event) == expected


def test_times_with_microseconds_and_at_the_calendar_edges() -> None:
    event = _EVENTS[0]
    for when in (
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2026, 3, 1, 12, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 3, 1, 12, 0, 0, 120_000, tzinfo=UTC),
        # Not what validation leaves (it converts to UTC), but what `model_copy` can: encoded as pydantic writes it.
        datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone(timedelta(0))),
        datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ):
        moved = event.model_copy(update={"time": when})
        assert to_kafka_record(moved) == _reference(moved)


def test_assembled_events_equal_validated_ones() -> None:
    for event in _EVENTS:
        validated = CanonicalEvent.model_validate(event.model_dump())
        assert validated == event
        assert validated.model_dump(mode="json") == event.model_dump(mode="json")
