"""Canonical events for deduplicator tests: `domain.expiring` events with chosen ids and content."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from regpipe.contract import CanonicalEvent, EventType, Outcome, Source, Transport
from regpipe.contract.events import DomainExpiring


def expiring(
    event_id: uuid.UUID,
    *,
    domain: str = "example.com",
    checkpoint: int = 7,
    mapper_version: str = "most/1.0.0",
    transport: Transport = Transport.WEBHOOK,
    provider_fields: dict[str, str] | None = None,
    correction: bool = False,
    time: datetime | None = None,
) -> CanonicalEvent:
    """One `domain.expiring` event."""
    return CanonicalEvent(
        id=event_id,
        source=Source.MOST,
        type=EventType.DOMAIN_EXPIRING,
        subject=domain,
        time=time or datetime(2026, 11, 1, tzinfo=UTC),
        partition_key=domain,
        outcome=Outcome.NOTIFICATION,
        provider_event_id=str(event_id),
        provider_event_type="domain.expiring",
        transport=transport,
        mapper_version=mapper_version,
        correction=correction,
        data=DomainExpiring.model_validate(
            {"domain": domain, "checkpoint": checkpoint, "provider_fields": provider_fields or {}}
        ),
    )
