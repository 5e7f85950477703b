"""A tiny mapper for tests of the stage machinery, independent of any real provider's payloads.

JSON bodies `{"id", "kind": "expiring", "domain", "checkpoint"}` (or the same as attributes of an XML `<event>`
element when the content type says XML) map to one `domain.expiring` event. `"kind": "explode"` raises a bare
`KeyError`, standing in for a mapper bug; `"kind": "nothing"` maps to no event. Hostile kinds (issue 12):
`"inflate"` maps to an event carrying `text` repeated `repeat` times (an output larger than its input), `"spin"`
never returns (a mapper stuck on a record), `"runtime"` raises a `RuntimeError` (an exception no mapper expects).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from xml.etree.ElementTree import ParseError

import orjson
from defusedxml.ElementTree import fromstring

from regpipe.contract.envelope import CanonicalEvent
from regpipe.contract.events import DomainExpiring
from regpipe.contract.ids import canonical_event_id
from regpipe.contract.raw import RawHeaders, raw_key
from regpipe.contract.taxonomy import EventType, Outcome, Source, Transport
from regpipe.normalize.registry import Mapper, MapperRegistry
from regpipe.providers.kit import build_event
from regpipe.providers.mapper import MappingError, QuarantineReason, RawInput

__all__ = ["SAMPLE_MAPPERS", "SAMPLE_SOURCE", "SAMPLE_VERSION", "expected_id", "map_sample", "sample_record"]

SAMPLE_SOURCE = Source.MOST
SAMPLE_VERSION = "sample/1"
_PROVIDER_TYPE = "sample.expiring"


def map_sample(raw: RawInput) -> list[CanonicalEvent]:
    """Map one sample body (see the module docstring)."""
    try:
        text = raw.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MappingError(QuarantineReason.UNREADABLE_BYTES, "body is not UTF-8") from exc
    payload: Any
    if "xml" in raw.headers.content_type:
        try:
            payload = dict(fromstring(text).attrib)
        except ParseError as exc:
            raise MappingError(QuarantineReason.INVALID_XML, "body is not well-formed XML") from exc
    else:
        try:
            payload = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise MappingError(QuarantineReason.INVALID_JSON, "body is not JSON") from exc
    if not isinstance(payload, dict):
        raise MappingError(QuarantineReason.SCHEMA_VIOLATION, "body is not an object")
    kind = payload.get("kind")
    if kind == "explode":
        return [payload["no such field"]]
    if kind == "nothing":
        return []
    if kind == "runtime":
        raise RuntimeError("not a mapping error")
    if kind == "spin":
        while True:  # a record that makes a mapper loop: only the stage's deadline ends it
            pass
    extra: dict[str, Any] = {}
    if kind == "inflate":
        extra = {"blob": str(payload.get("text", "")) * int(payload.get("repeat", 1))}
    elif kind != "expiring":
        raise MappingError(QuarantineReason.UNKNOWN_EVENT_TYPE, "unknown kind")
    event_id, domain = payload.get("id"), payload.get("domain")
    if not isinstance(event_id, str) or not isinstance(domain, str):
        raise MappingError(QuarantineReason.SCHEMA_VIOLATION, "id and domain must be strings")
    return [
        build_event(
            raw,
            type=EventType.DOMAIN_EXPIRING,
            outcome=Outcome.NOTIFICATION,
            provider_event_id=event_id,
            provider_event_type=_PROVIDER_TYPE,
            time=datetime(2026, 5, 1, tzinfo=UTC),
            data=DomainExpiring(domain=domain, checkpoint=int(payload.get("checkpoint", 7))),
            mapper_version=SAMPLE_VERSION,
            domain=domain,
            extra_fields=extra,
        )
    ]


SAMPLE_MAPPERS: MapperRegistry = MappingProxyType({SAMPLE_SOURCE: Mapper(SAMPLE_SOURCE, SAMPLE_VERSION, map_sample)})


def sample_record(
    event_id: str,
    domain: str,
    *,
    kind: str = "expiring",
    body: bytes | None = None,
    content_type: str = "application/json",
) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Key, value and headers of a raw sample record (`body` overrides the JSON built from the fields)."""
    value = body if body is not None else orjson.dumps({"id": event_id, "kind": kind, "domain": domain})
    headers = RawHeaders(
        source=SAMPLE_SOURCE,
        transport=Transport.WEBHOOK,
        content_type=content_type,
        provider_event_id=event_id,
        provider_event_type=_PROVIDER_TYPE,
    )
    return raw_key(SAMPLE_SOURCE, event_id, value).encode(), value, headers.to_kafka()


def expected_id(event_id: str) -> uuid.UUID:
    """The canonical id the sample mapper gives the event `event_id`."""
    return canonical_event_id(
        source=SAMPLE_SOURCE,
        provider_event_id=event_id,
        provider_event_type=_PROVIDER_TYPE,
        canonical_type=EventType.DOMAIN_EXPIRING,
    )
