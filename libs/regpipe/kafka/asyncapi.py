"""The AsyncAPI 3.0 document of every topic, generated from the code that defines them.

Channels come from the topic registry (`regpipe.kafka.topics`), canonical event messages from the taxonomy and the
data models (payloads reference the committed JSON Schemas in `docs/schemas/`), headers from the Kafka bindings
(`CanonicalEvent` attributes as `ce_*` headers, `RawHeaders`, the quarantine headers). A generator over the registry
rather than FastStream's: only some services are built on FastStream, and the contract covers every topic.

`python -m regpipe.kafka.asyncapi generate` writes `docs/asyncapi.yaml`; `... check` exits 1 when it is stale.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any, Final

import typer
import yaml
from pydantic import BaseModel

from regpipe.contract import CanonicalEvent, EventType, Outcome, RawHeaders, Source, Transport
from regpipe.contract.events import DATA_MODELS
from regpipe.kafka.topics import TOPICS, Topic, TopicSpec
from regpipe.streaming.quarantine import QUARANTINE_HEADERS

__all__ = ["CANONICAL_HEADERS_SCHEMA", "DEFAULT_PATH", "generate", "header_names", "main", "render"]

DEFAULT_PATH: Final = Path("docs/asyncapi.yaml")
CANONICAL_HEADERS_SCHEMA: Final = "CanonicalEventHeaders"
_SCHEMAS_DIR: Final = "schemas"  # docs/schemas, relative to the document
_KAFKA_BINDING: Final = "0.5.0"
# Extension attributes that carry the raw record's position (`CanonicalEvent.lineage`, flattened).
_LINEAGE_HEADERS: Final = {
    "ce_rawtopic": "Topic of the raw record this event was mapped from.",
    "ce_rawpartition": "Partition of that raw record (decimal).",
    "ce_rawoffset": "Offset of that raw record (decimal).",
}
_ENUMS: Final[dict[str, list[str]]] = {
    "source": [s.value for s in Source],
    "type": [t.value for t in EventType],
    "outcome": [o.value for o in Outcome],
    "transport": [t.value for t in Transport],
}


@dataclass(frozen=True, slots=True)
class _ChannelDoc:
    """What the registry does not say about a topic: its key, who writes it, what a record holds."""

    description: str
    key: str
    writers: str
    message: str  # "canonical" for the event-type messages, else a message id of `_OTHER_MESSAGES`


_CHANNELS: Final[dict[Topic, _ChannelDoc]] = {
    Topic.RAW: _ChannelDoc(
        "The provider's bytes exactly as received, one record per provider event (or per poll response item); the "
        "source of truth for replay. Values may be sealed (AES-256-GCM, `seal` header): treat the topic as secret.",
        "`<source>:<provider event id>`, or `<source>:sha256:<hex>` of the body where the provider gives no id.",
        "ingestors (webhook receiver, pollers, IMAP parser); read by the normalizer",
        "raw_record",
    ),
    Topic.NORMALIZED: _ChannelDoc(
        "Canonical events as mapped, possibly duplicated (provider retries, the same event by mail and by poll). "
        "Internal: consume `registrar.events.v1` instead.",
        "The canonical partition key (`ce_partitionkey`).",
        "normalizer; read by the deduplicator",
        "canonical",
    ),
    Topic.EVENTS: _ChannelDoc(
        "The public stream: every canonical event once, in order per partition key. Written in Kafka transactions: "
        "consume with `isolation.level=read_committed` (docs/consumers.md).",
        "The canonical partition key (`ce_partitionkey`): the domain name where the event is about one domain.",
        "deduplicator (and the aggregator's relay); consumed by other teams",
        "canonical",
    ),
    Topic.QUARANTINE: _ChannelDoc(
        "Raw records the normalizer could not map, untouched (still sealed if they were), with the reason in "
        "headers; redriven by `regpipe-replay` once a mapper is fixed. Treat as secret, like the raw topic.",
        "The raw record's key.",
        "normalizer (and the deduplicator for records that are not canonical events)",
        "quarantine_record",
    ),
    Topic.DEDUP_STATE: _ChannelDoc(
        "The deduplicator's changelog: one entry per published id, written in the same transaction as its output. "
        "Internal.",
        "The canonical event id, 16 raw bytes (not text).",
        "deduplicator",
        "dedup_state_entry",
    ),
    Topic.DELIVERY_DLQ: _ChannelDoc(
        "Delivery jobs to subscriber endpoints that exhausted their retry schedule (docs/delivery.md).",
        "Subscription id and event id.",
        "delivery",
        "delivery_dead_letter",
    ),
}

_BYTES: Final = {"type": "string", "format": "binary"}
_OTHER_MESSAGES: Final[dict[str, dict[str, Any]]] = {
    "raw_record": {
        "name": "raw_record",
        "title": "Raw provider record",
        "contentType": "application/octet-stream",
        "headers": {"$ref": "#/components/schemas/RawRecordHeaders"},
        "payload": {**_BYTES, "description": "The provider's bytes; see the `content-type` and `seal` headers."},
    },
    "quarantine_record": {
        "name": "quarantine_record",
        "title": "Quarantined raw record",
        "contentType": "application/octet-stream",
        "headers": {"$ref": "#/components/schemas/QuarantineRecordHeaders"},
        "payload": {**_BYTES, "description": "The raw record's value, untouched."},
    },
    "dedup_state_entry": {
        "name": "dedup_state_entry",
        "title": "Deduplicator changelog entry",
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "required": ["f", "m"],
            "properties": {
                "f": {"type": "string", "description": "Content fingerprint of the published event (hex)."},
                "m": {"type": "string", "description": "Mapper version that produced it."},
            },
        },
    },
    "delivery_dead_letter": {
        "name": "delivery_dead_letter",
        "title": "Exhausted delivery job",
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "description": "Subscription, event id, attempts, last error and the event (docs/delivery.md).",
        },
    },
}


def header_names(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> Kafka header name of the raw-record headers (`received_at` travels as `received-at`)."""
    return {name: name.replace("_", "-") for name in model.model_fields}


def _summary(model: type[Any]) -> str:
    doc = inspect.getdoc(model) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def _canonical_headers() -> dict[str, Any]:
    """The `ce_*` and `content-type` headers of a canonical event record (CloudEvents Kafka binding, binary mode)."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, info in CanonicalEvent.model_fields.items():
        if name in ("data", "lineage"):
            continue
        header = "content-type" if name == "datacontenttype" else "ce_" + name.replace("_", "")
        schema: dict[str, Any] = {"type": "string"}
        if name in _ENUMS:
            schema["enum"] = _ENUMS[name]
        if info.description:
            schema["description"] = info.description
        properties[header] = schema
        # Fields with a default are written too (the binding dumps them); only None-able ones may be absent.
        if info.is_required() or info.default is not None:
            required.append(header)
    properties["ce_specversion"]["const"] = "1.0"
    properties["content-type"]["const"] = "application/json"
    properties["ce_time"]["format"] = "date-time"
    properties["ce_id"]["format"] = "uuid"
    properties["ce_correction"]["enum"] = ["true", "false"]
    for header, description in _LINEAGE_HEADERS.items():
        properties[header] = {"type": "string", "description": description}
    return {
        "type": "object",
        "description": "CloudEvents 1.0 attributes, one UTF-8 header each. Ignore headers you do not know.",
        "required": sorted(required),
        "properties": dict(sorted(properties.items())),
    }


def _raw_headers() -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    names = header_names(RawHeaders)
    for name, info in RawHeaders.model_fields.items():
        schema: dict[str, Any] = {"type": "string"}
        if name in _ENUMS:
            schema["enum"] = _ENUMS[name]
        if info.description:
            schema["description"] = info.description
        properties[names[name]] = schema
        if info.is_required() or info.default is not None or info.default_factory is not None:
            required.append(names[name])
    return {
        "type": "object",
        "description": "How the record arrived; absent values are left out. Ignore headers you do not know.",
        "required": sorted(required),
        "properties": dict(sorted(properties.items())),
    }


def _quarantine_headers() -> dict[str, Any]:
    return {
        "allOf": [
            {"$ref": "#/components/schemas/RawRecordHeaders"},
            {
                "type": "object",
                "description": "Added by the stage that quarantined the record.",
                "required": sorted(QUARANTINE_HEADERS),
                "properties": {name: {"type": "string"} for name in sorted(QUARANTINE_HEADERS)},
            },
        ]
    }


def _message_id(event_type: EventType) -> str:
    return event_type.value.replace(".", "_")


def _event_message(event_type: EventType) -> dict[str, Any]:
    return {
        "name": event_type.value,
        "title": event_type.value,
        "summary": _summary(DATA_MODELS[event_type]),
        "contentType": "application/json",
        "correlationId": {"location": "$message.header#/ce_id"},
        "headers": {
            "allOf": [
                {"$ref": f"#/components/schemas/{CANONICAL_HEADERS_SCHEMA}"},
                {"type": "object", "properties": {"ce_type": {"const": event_type.value}}},
            ]
        },
        "payload": {"$ref": f"{_SCHEMAS_DIR}/{event_type.value}.json"},
        "bindings": {
            "kafka": {"key": {"type": "string", "description": "ce_partitionkey"}, "bindingVersion": _KAFKA_BINDING}
        },
    }


def _channel_id(topic: Topic) -> str:
    return topic.value.replace(".", "_")


def _channel(spec: TopicSpec, doc: _ChannelDoc) -> dict[str, Any]:
    if doc.message == "canonical":
        messages = {_message_id(t): {"$ref": f"#/components/messages/{_message_id(t)}"} for t in EventType}
    else:
        messages = {doc.message: {"$ref": f"#/components/messages/{doc.message}"}}
    config = spec.config()
    topic_configuration: dict[str, Any] = {
        "cleanup.policy": config.pop("cleanup.policy").split(","),
        "retention.ms": int(config.pop("retention.ms")),
    }
    return {
        "address": spec.name.value,
        "title": spec.name.value,
        "description": f"{doc.description} Key: {doc.key} Written by: {doc.writers}.",
        "messages": messages,
        "bindings": {
            "kafka": {
                "topic": spec.name.value,
                "partitions": spec.partitions,
                "topicConfiguration": topic_configuration,
                "bindingVersion": _KAFKA_BINDING,
            }
        },
    }


def _project_version() -> str:
    try:
        return version("regpipe")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "0.0.0"


def generate() -> dict[str, Any]:
    """The AsyncAPI document as a mapping, deterministic (same code, same document)."""
    missing = [topic.value for topic in TOPICS if topic not in _CHANNELS]
    if missing:
        raise KeyError(f"topics without a channel description in regpipe.kafka.asyncapi: {missing}")
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic, spec in TOPICS.items():
        doc = _CHANNELS[topic]
        channel_id = _channel_id(topic)
        channels[channel_id] = _channel(spec, doc)
        operations[f"publish_{channel_id}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"Written by: {doc.writers}.",
        }
    messages = {_message_id(t): _event_message(t) for t in EventType}
    messages.update(_OTHER_MESSAGES)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "regpipe topics",
            "version": _project_version(),
            "description": (
                "Every Kafka topic of regpipe: keys, headers and the message of every canonical event type. "
                "Generated from the topic registry and the contract by `python -m regpipe.kafka.asyncapi generate`; "
                "how to consume the public topic is in docs/consumers.md."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": {
                CANONICAL_HEADERS_SCHEMA: _canonical_headers(),
                "RawRecordHeaders": _raw_headers(),
                "QuarantineRecordHeaders": _quarantine_headers(),
            },
            "messages": messages,
        },
    }


class _NoAliasDumper(yaml.SafeDumper):
    """Writes a value shared by two places twice instead of as a YAML anchor (plainer for readers and tools)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render(document: dict[str, Any]) -> str:
    """The committed text: block YAML, keys in generation order, wide lines (stable diffs)."""
    header = "# Generated by `python -m regpipe.kafka.asyncapi generate` from the code; do not edit by hand.\n"
    body = yaml.dump(document, Dumper=_NoAliasDumper, sort_keys=False, width=120, allow_unicode=True)
    return header + body


_app = typer.Typer(add_completion=False, help="Generate or check the AsyncAPI document of every topic.")


@_app.command("generate")
def _generate(path: Annotated[Path, typer.Option("--path", help="Where the document lives.")] = DEFAULT_PATH) -> None:
    """Write the document."""
    path.write_text(render(generate()))
    typer.echo(f"wrote {path}")


@_app.command("check")
def _check(path: Annotated[Path, typer.Option("--path", help="Where the document lives.")] = DEFAULT_PATH) -> None:
    """Exit 1 when the committed document differs from what the code generates."""
    if not path.exists() or path.read_text() != render(generate()):
        typer.echo(f"stale: {path} (run: python -m regpipe.kafka.asyncapi generate)", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"{path} up to date")


def main() -> None:
    """Command-line entry point."""
    _app()


if __name__ == "__main__":
    main()
