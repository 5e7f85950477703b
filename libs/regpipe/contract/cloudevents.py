"""CloudEvents Kafka protocol binding, binary content mode: `ce_*` headers, JSON data as the value.

Written by hand rather than with the CloudEvents SDK, whose Kafka helpers omit `ce_partitionkey`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

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

_FIELD_BY_ATTRIBUTE = {
    _attribute_name(name): name for name in CanonicalEvent.model_fields if name not in ("data", "lineage")
}


def to_kafka_record(event: CanonicalEvent) -> KafkaRecord:
    """Encode `event` in binary mode; the record key is the partition key."""
    headers: list[tuple[str, bytes]] = []
    dumped = event.model_dump(mode="json", exclude={"data", "lineage"})
    for field, value in dumped.items():
        if value is None:
            continue
        if field == "datacontenttype":
            headers.append((_CONTENT_TYPE, str(value).encode()))
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        headers.append((_CE + _attribute_name(field), text.encode()))
    if event.lineage is not None:
        headers.append((_CE + "rawtopic", event.lineage.topic.encode()))
        headers.append((_CE + "rawpartition", str(event.lineage.partition).encode()))
        headers.append((_CE + "rawoffset", str(event.lineage.offset).encode()))
    value = orjson.dumps(event.data.model_dump(mode="json"))
    return KafkaRecord(key=event.partition_key.encode(), value=value, headers=headers)


def to_normalized_record(event: CanonicalEvent) -> KafkaRecord:
    """`event` as a record of the normalized topic: keyed by its canonical id rather than its partition key, so every
    copy of one id, whatever its domain, reaches the same deduplicator partition (`docs/stages.md`)."""
    record = to_kafka_record(event)
    return KafkaRecord(key=str(event.id).encode(), value=record.value, headers=record.headers)


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
