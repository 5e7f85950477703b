"""A consumer of this version reads events written by a newer producer that added fields."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson

from regpipe.contract import CanonicalEvent, EventType, Outcome, Source, Transport, from_kafka_record, to_kafka_record
from regpipe.contract.events import DATA_MODELS
from regpipe.contract.tolerant import known_fields


def _event() -> CanonicalEvent:
    model = DATA_MODELS[EventType.DOMAIN_TRANSFER_STATUS_CHANGED]
    return CanonicalEvent(
        id=uuid.uuid4(),
        source=Source.OPENSRS,
        type=EventType.DOMAIN_TRANSFER_STATUS_CHANGED,
        subject="example.com",
        time=datetime(2026, 1, 1, tzinfo=UTC),
        partition_key="example.com",
        outcome=Outcome.NOTIFICATION,
        provider_event_type="TRANSFER.STATUS_CHANGE",
        transport=Transport.POLL,
        mapper_version="opensrs/1.0.0",
        data=model.model_validate({"domain": "example.com", "error": {"code": "X", "detail": "y"}}),
    )


def test_fields_added_by_a_newer_producer_are_dropped_at_every_depth() -> None:
    event = _event()
    record = to_kafka_record(event)
    newer = orjson.loads(record.value)
    newer["added_later"] = 1
    newer["error"]["added_later_too"] = {"x": 1}
    read = from_kafka_record(orjson.dumps(newer), record.headers)
    assert read == event


def test_known_fields_keeps_everything_it_knows() -> None:
    model = DATA_MODELS[EventType.DOMAIN_TRANSFER_STATUS_CHANGED]
    dumped = _event().data.model_dump(mode="json")
    assert known_fields(model, dumped) == dumped
