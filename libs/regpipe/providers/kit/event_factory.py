"""The one way a mapper assembles a canonical event: deterministic id, subject, partition key and lineage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import JsonValue

from regpipe.contract.envelope import CanonicalEvent
from regpipe.contract.events.base import EventData
from regpipe.contract.ids import canonical_event_id
from regpipe.contract.names import partition_key
from regpipe.contract.taxonomy import EventType, Outcome
from regpipe.providers.mapper import RawInput

__all__ = ["EventFactory", "build_event"]


def build_event(
    raw: RawInput,
    *,
    type: EventType,
    outcome: Outcome,
    provider_event_id: str,
    provider_event_type: str,
    time: datetime | None,
    data: EventData,
    mapper_version: str,
    domain: str | None = None,
    fallback_key: str | None = None,
    item_index: int | None = None,
    extra_fields: Mapping[str, JsonValue] | None = None,
) -> CanonicalEvent:
    """Assemble a canonical event with its deterministic id, subject and partition key.

    `provider_event_id` must be the provider's id (or a content fingerprint where it has none); `time` falls back
    to when we received the record, for providers whose envelope carries no timestamp.
    """
    if extra_fields:
        data = data.model_copy(update={"provider_fields": {**data.provider_fields, **extra_fields}})
    return CanonicalEvent(
        id=canonical_event_id(
            source=raw.headers.source,
            provider_event_id=provider_event_id,
            provider_event_type=provider_event_type,
            canonical_type=type,
            item_index=item_index,
        ),
        source=raw.headers.source,
        type=type,
        subject=partition_key(domain=domain, fallback="-") if domain else None,
        time=time or raw.headers.received_at,
        partition_key=partition_key(domain=domain, fallback=fallback_key or provider_event_id),
        outcome=outcome,
        provider_event_id=provider_event_id,
        provider_event_type=provider_event_type,
        transport=raw.headers.transport,
        lineage=raw.lineage,
        mapper_version=mapper_version,
        data=data,
    )


@dataclass(frozen=True, slots=True)
class EventFactory:
    """What every canonical event of one provider event shares, so a mapper names only what differs per event.

    One provider event can fan out into several canonical events (a task and its items, a batch and its orders):
    they share the raw record, the provider's id and type, the default time and the envelope's unmodelled fields.
    """

    raw: RawInput
    mapper_version: str
    provider_event_id: str
    provider_event_type: str
    time: datetime | None = None
    extra_fields: Mapping[str, JsonValue] = field(default_factory=dict)

    def event(
        self,
        type: EventType,
        outcome: Outcome,
        data: EventData,
        *,
        domain: str | None = None,
        fallback_key: str | None = None,
        item_index: int | None = None,
        time: datetime | None = None,
    ) -> CanonicalEvent:
        """One canonical event; `time` overrides the provider event's time (None keeps it)."""
        return build_event(
            self.raw,
            type=type,
            outcome=outcome,
            provider_event_id=self.provider_event_id,
            provider_event_type=self.provider_event_type,
            time=time or self.time,
            data=data,
            mapper_version=self.mapper_version,
            domain=domain,
            fallback_key=fallback_key,
            item_index=item_index,
            extra_fields=self.extra_fields,
        )
