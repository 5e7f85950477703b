"""The typed data model of every canonical event type, and the registry from type to model."""

from __future__ import annotations

from typing import Final

from regpipe.contract.events.base import EventData
from regpipe.contract.events.domain import DomainEventData, DomainExpiring
from regpipe.contract.taxonomy import EventType

__all__ = ["DATA_MODELS", "DomainEventData", "DomainExpiring", "EventData"]

#: Event type -> the pydantic model of its `data`. Every EventType must have exactly one entry.
DATA_MODELS: Final[dict[EventType, type[EventData]]] = {
    EventType.DOMAIN_EXPIRING: DomainExpiring,
}
