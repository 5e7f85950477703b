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

# RFC 4122 UUIDv5 from the SHA-1 of namespace + name, as `uuid.uuid5` computes it, without its `UUID(bytes=...,
# version=5)` layers (half the cost of an id; every canonical event gets one): clear the version and variant bits
# of the first 128 bits of the digest, then set version 5 and the RFC 4122 variant.
_NAMESPACE_BYTES = NAMESPACE.bytes
_VERSION_AND_VARIANT_CLEARED = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_VERSION_5_RFC_4122 = (5 << 76) | (0x8000 << 48)


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
    # The enums are `StrEnum`s: joined as the text of their values.
    parts = [source, provider_event_id, provider_event_type, canonical_type]
    if item_index is not None:
        parts.append(str(item_index))
    digest = hashlib.sha1(_NAMESPACE_BYTES + "\x1f".join(parts).encode(), usedforsecurity=False).digest()
    return uuid.UUID(int=(int.from_bytes(digest[:16]) & _VERSION_AND_VARIANT_CLEARED) | _VERSION_5_RFC_4122)
