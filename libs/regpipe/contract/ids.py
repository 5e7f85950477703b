"""Deterministic canonical event ids.

The same provider event always maps to the same id, whichever route it came by (poll or e-mail) and however
often it is replayed, so the deduplicator and consumers can recognise it.
"""

from __future__ import annotations

import hashlib
import uuid

from regpipe.contract.taxonomy import EventType, Source

__all__ = ["NAMESPACE", "canonical_event_id", "content_fingerprint"]

#: UUIDv5 namespace of regpipe canonical events; never change it, or every id changes.
NAMESPACE = uuid.UUID("5d1f7a52-3c1e-4b7a-9d0e-6a8f2c4b1e90")


def content_fingerprint(body: bytes) -> str:
    """A stable id for a provider event that carries no id of its own."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def canonical_event_id(
    *,
    source: Source,
    provider_event_id: str,
    provider_event_type: str,
    canonical_type: EventType,
    item_index: int | None = None,
) -> uuid.UUID:
    """UUIDv5 over source, provider event id and type, canonical type and (for fanned-out items) the index.

    The provider type is part of the name because some providers reuse one event id across event types.
    """
    parts = [source.value, provider_event_id, provider_event_type, canonical_type.value]
    if item_index is not None:
        parts.append(str(item_index))
    return uuid.uuid5(NAMESPACE, "\x1f".join(parts))
