"""The AsyncAPI document covers every topic and says what the code really writes: the committed file is current,
and the headers it declares are the headers the Kafka bindings put on records."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from faststream.specification.asyncapi.v3_0_0.schema import ApplicationSchema

from regpipe.contract import (
    CanonicalEvent,
    EventType,
    Lineage,
    Outcome,
    RawHeaders,
    Source,
    Transport,
    to_kafka_record,
)
from regpipe.contract.events import DATA_MODELS
from regpipe.contract.raw import EmailAuth
from regpipe.kafka.asyncapi import CANONICAL_HEADERS_SCHEMA, generate, render
from regpipe.kafka.topics import TOPICS

_ROOT = Path(__file__).resolve().parents[2]
_DOC = _ROOT / "docs" / "asyncapi.yaml"


def _event(**overrides: Any) -> CanonicalEvent:
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "source": Source.OPENSRS,
        "type": EventType.DOMAIN_TRANSFER_STATUS_CHANGED,
        "subject": "example.com",
        "time": datetime(2026, 1, 1, tzinfo=UTC),
        "partition_key": "example.com",
        "outcome": Outcome.NOTIFICATION,
        "provider_event_id": "42",
        "provider_event_type": "TRANSFER.STATUS_CHANGE",
        "transport": Transport.POLL,
        "lineage": Lineage(topic="registrar.raw.v1", partition=1, offset=7),
        "mapper_version": "opensrs/1.0.0",
        "data": DATA_MODELS[EventType.DOMAIN_TRANSFER_STATUS_CHANGED].model_validate({"domain": "example.com"}),
    }
    fields.update(overrides)
    return CanonicalEvent(**fields)


def test_committed_document_is_current() -> None:
    assert _DOC.read_text() == render(generate()), "run: python -m regpipe.kafka.asyncapi generate"


def test_every_registered_topic_is_a_channel_with_its_settings() -> None:
    channels = generate()["channels"]
    by_address = {channel["address"]: channel for channel in channels.values()}
    assert set(by_address) == {topic.value for topic in TOPICS}
    for topic, spec in TOPICS.items():
        kafka = by_address[topic.value]["bindings"]["kafka"]
        assert kafka["partitions"] == spec.partitions
        assert kafka["topicConfiguration"]["retention.ms"] == spec.retention_ms


def test_canonical_headers_are_those_the_binding_writes() -> None:
    schema = generate()["components"]["schemas"][CANONICAL_HEADERS_SCHEMA]
    full = {name for name, _ in to_kafka_record(_event()).headers}
    assert full == set(schema["properties"])
    minimal = {name for name, _ in to_kafka_record(_event(subject=None, provider_event_id=None, lineage=None)).headers}
    assert set(schema["required"]) == minimal


def test_raw_headers_are_those_the_ingestors_write() -> None:
    schema = generate()["components"]["schemas"]["RawRecordHeaders"]
    full = RawHeaders(
        source=Source.MOST,
        transport=Transport.WEBHOOK,
        provider_event_id="e1",
        provider_event_type="domain.renewed",
        account="acct",
        seal="k1",
        email_auth=EmailAuth.UNVERIFIED,
    )
    assert {name for name, _ in full.to_kafka()} == set(schema["properties"])
    minimal = RawHeaders(source=Source.MOST, transport=Transport.WEBHOOK)
    assert {name for name, _ in minimal.to_kafka()} == set(schema["required"])


def test_every_event_type_has_a_message_whose_payload_is_a_committed_schema() -> None:
    document = yaml.safe_load(_DOC.read_text())
    messages = document["components"]["messages"]
    public = next(c for c in document["channels"].values() if c["address"] == "registrar.events.v1")
    referenced = {ref["$ref"].rsplit("/", 1)[1] for ref in public["messages"].values()}
    by_name = {message["name"]: message for message in messages.values()}
    for event_type in EventType:
        message = by_name[event_type.value]
        payload = message["payload"]["$ref"]
        assert (_DOC.parent / payload).is_file(), payload
        assert event_type.value.replace(".", "_") in referenced
    for channel in document["channels"].values():
        for ref in channel["messages"].values():
            assert ref["$ref"].rsplit("/", 1)[1] in messages


def test_document_reads_as_asyncapi_3_in_faststream_models() -> None:
    # FastStream's own AsyncAPI 3.0 models (what it generates for its services) read the document back whole.
    schema = ApplicationSchema.model_validate(yaml.safe_load(_DOC.read_text()))
    assert schema.asyncapi == "3.0.0"
    assert len(schema.channels) == len(TOPICS)
    assert schema.components is not None
    assert schema.components.messages is not None
    assert len(schema.components.messages) >= len(EventType)
