"""The content fingerprint the deduplicator compares when two events share a canonical id.

It covers what the event says (type, subject, outcome and the modelled data), not how or when it was received:
transport, lineage, receipt-time fallbacks and the verbatim `provider_fields` (whose scalar types differ between,
e.g., OpenSRS's XML poll and its JSON e-mail of the same event) are left out, so the same provider event by two
routes has one fingerprint.
"""

from __future__ import annotations

import hashlib

import orjson

from regpipe.contract.envelope import CanonicalEvent

__all__ = ["fingerprint"]


def fingerprint(event: CanonicalEvent) -> bytes:
    """A 16-byte digest of the event's meaning."""
    data = event.data.model_dump(mode="json", exclude={"provider_fields"})
    material = orjson.dumps(
        {"type": event.type.value, "subject": event.subject, "outcome": event.outcome.value, "data": data},
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.blake2b(material, digest_size=16).digest()
