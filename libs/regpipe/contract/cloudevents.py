"""CloudEvents Kafka protocol binding, binary content mode: `ce_*` headers, JSON data as the value.

Written by hand rather than with the CloudEvents SDK, whose Kafka helpers omit `ce_partitionkey`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import AwareDatetime, TypeAdapter, ValidationError

from regpipe.contract.envelope import CanonicalEvent, Lineage
from regpipe.contract.errors import RecordDecodeError
from regpipe.contract.events import DATA_MODELS
from regpipe.contract.taxonomy import EventType
from regpipe.contract.tolerant import known_fields

__all__ = ["KafkaRecord", "from_kafka_record", "to_kafka_record", "to_normalized_record"]

_CONTENT_TYPE = "content-type"
_CE = "ce_"
# Attributes carried in their own header; `lineage` is flattened into three extension attributes.
_LINEAGE = ("rawtopic", "rawpartition", "rawoffset")


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """The key, value and headers of one Kafka record."""

    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def _attribute_name(field: str) -> str:
    return field.replace("_", "")


_TYPES = frozenset(t.value for t in EventType)

_TIME: TypeAdapter[datetime] = TypeAdapter(AwareDatetime)

_FIELD_BY_ATTRIBUTE = {
    _attribute_name(name): name for name in CanonicalEvent.model_fields if name not in ("data", "lineage")
}


# Header names and constant header values, computed once: the encoding runs for every event the normalizer
# writes (4.3 per raw record), and building these per event cost about as much as the rest of the encoding.
_H_SPECVERSION = _CE + "specversion"
_H_ID = _CE + "id"
_H_SOURCE = _CE + "source"
_H_TYPE = _CE + "type"
_H_SUBJECT = _CE + "subject"
_H_TIME = _CE + "time"
_H_PARTITION_KEY = _CE + _attribute_name("partition_key")
_H_OUTCOME = _CE + "outcome"
_H_PROVIDER_EVENT_ID = _CE + _attribute_name("provider_event_id")
_H_PROVIDER_EVENT_TYPE = _CE + _attribute_name("provider_event_type")
_H_TRANSPORT = _CE + "transport"
_H_MAPPER_VERSION = _CE + _attribute_name("mapper_version")
_H_CORRECTION = _CE + "correction"
_H_RAW_TOPIC, _H_RAW_PARTITION, _H_RAW_OFFSET = (_CE + attribute for attribute in _LINEAGE)
_CORRECTION = {True: (_H_CORRECTION, b"true"), False: (_H_CORRECTION, b"false")}
_SPECVERSION_1_0 = (_H_SPECVERSION, b"1.0")
_JSON_CONTENT = (_CONTENT_TYPE, b"application/json")
# The envelope's fields in declaration order, which is the order of its headers; a new field must be encoded below.
_ENCODED_FIELDS = (
    *("specversion", "id", "source", "type", "subject", "time", "datacontenttype", "partition_key", "outcome"),
    *("provider_event_id", "provider_event_type", "transport", "lineage", "mapper_version", "correction", "data"),
)
if tuple(CanonicalEvent.model_fields) != _ENCODED_FIELDS:  # pragma: no cover - caught by any test importing this
    raise RuntimeError("CanonicalEvent's fields changed: update regpipe.contract.cloudevents' encoding")


def _time_text(value: datetime) -> bytes:
    # What pydantic's JSON mode writes for the envelope's time (always UTC once validated): ISO 8601 with `Z`.
    if value.tzinfo is UTC:
        return (value.isoformat()[:-6] + "Z").encode()
    return str(_TIME.dump_python(value, mode="json")).encode()


def _encode(event: CanonicalEvent) -> tuple[bytes, list[tuple[str, bytes]], bytes]:
    """(id as text, headers, value) of `event`; the headers are what `model_dump(mode="json")` of the envelope
    gives, field by field (`tests/normalize/test_encoding.py` holds them to that, byte for byte)."""
    event_id = str(event.id).encode()
    specversion = event.specversion
    headers: list[tuple[str, bytes]] = [
        _SPECVERSION_1_0 if specversion == "1.0" else (_H_SPECVERSION, specversion.encode()),
        (_H_ID, event_id),
        (_H_SOURCE, event.source.encode()),
        (_H_TYPE, event.type.encode()),
    ]
    if event.subject is not None:
        headers.append((_H_SUBJECT, event.subject.encode()))
    headers.append((_H_TIME, _time_text(event.time)))
    content_type = event.datacontenttype
    headers.append(_JSON_CONTENT if content_type == "application/json" else (_CONTENT_TYPE, content_type.encode()))
    headers.append((_H_PARTITION_KEY, event.partition_key.encode()))
    headers.append((_H_OUTCOME, event.outcome.encode()))
    if event.provider_event_id is not None:
        headers.append((_H_PROVIDER_EVENT_ID, event.provider_event_id.encode()))
    headers.append((_H_PROVIDER_EVENT_TYPE, event.provider_event_type.encode()))
    headers.append((_H_TRANSPORT, event.transport.encode()))
    headers.append((_H_MAPPER_VERSION, event.mapper_version.encode()))
    headers.append(_CORRECTION[bool(event.correction)])
    lineage = event.lineage
    if lineage is not None:
        headers.append((_H_RAW_TOPIC, lineage.topic.encode()))
        headers.append((_H_RAW_PARTITION, str(lineage.partition).encode()))
        headers.append((_H_RAW_OFFSET, str(lineage.offset).encode()))
    # `model_dump(mode="json")` is this call behind a Python wrapper that costs about 1 us an event.
    data = event.data
    return event_id, headers, orjson.dumps(data.__pydantic_serializer__.to_python(data, mode="json"))


def to_kafka_record(event: CanonicalEvent) -> KafkaRecord:
    """Encode `event` in binary mode; the record key is the partition key."""
    _, headers, value = _encode(event)
    return KafkaRecord(key=event.partition_key.encode(), value=value, headers=headers)


def to_normalized_record(event: CanonicalEvent) -> KafkaRecord:
    """`event` as a record of the normalized topic: keyed by its canonical id rather than its partition key, so every
    copy of one id, whatever its domain, reaches the same deduplicator partition (`docs/stages.md`)."""
    event_id, headers, value = _encode(event)
    return KafkaRecord(key=event_id, value=value, headers=headers)


def from_kafka_record(value: bytes, headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]) -> CanonicalEvent:
    """Decode a binary-mode record back into a validated `CanonicalEvent`."""
    fields: dict[str, Any] = {}
    lineage: dict[str, str] = {}
    for name, raw in headers:
        text = raw.decode("utf-8", errors="strict")
        if name == _CONTENT_TYPE:
            fields["datacontenttype"] = text
        elif name.startswith(_CE):
            attribute = name[len(_CE) :]
            if attribute in _LINEAGE:
                lineage[attribute] = text
            elif attribute in _FIELD_BY_ATTRIBUTE:
                fields[_FIELD_BY_ATTRIBUTE[attribute]] = text
    if "correction" in fields:
        fields["correction"] = fields["correction"] == "true"
    if lineage:
        fields["lineage"] = Lineage(
            topic=lineage.get("rawtopic", ""),
            partition=int(lineage.get("rawpartition", "0")),
            offset=int(lineage.get("rawoffset", "0")),
        )
    try:
        data = orjson.loads(value)
        model = DATA_MODELS.get(EventType(fields["type"])) if fields.get("type") in _TYPES else None
        # Fields added by a newer producer are dropped rather than refused (see `regpipe.contract.tolerant`).
        fields["data"] = known_fields(model, data) if model is not None else data
        return CanonicalEvent.model_validate(fields)
    except (orjson.JSONDecodeError, ValidationError, ValueError) as exc:
        raise RecordDecodeError(f"not a canonical event record: {exc}") from exc
