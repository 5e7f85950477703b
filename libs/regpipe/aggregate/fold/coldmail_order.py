"""The Cold Mail order aggregate: the domain, mailbox and pre-warm-up events of one `orderId` grouped into one order.

The provider sends no expected item count, so the order is never "complete" by itself: the store settles it after a
quiet time (`regpipe.aggregate.store.settle`). The fold keeps each item's latest outcome (provider time) and the
order's first and last event times.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from regpipe.aggregate.fold.stamp import Stamp, stamp_of
from regpipe.contract import CanonicalEvent, EventType, Outcome, Source

__all__ = ["ColdMailItem", "ColdMailOrderState", "coldmail_order_id", "step_coldmail_order"]

_FAMILY = {
    EventType.DOMAIN_REGISTERED: "domain",
    EventType.DOMAIN_REGISTRATION_FAILED: "domain",
    EventType.DOMAIN_RENEWED: "domain",
    EventType.DOMAIN_RENEWAL_FAILED: "domain",
    EventType.MAILBOX_ORDER_SUCCEEDED: "mailbox",
    EventType.MAILBOX_ORDER_FAILED: "mailbox",
    EventType.PREWARMUP_ORDER_SUCCEEDED: "prewarmup",
    EventType.PREWARMUP_ORDER_FAILED: "prewarmup",
}


def coldmail_order_id(event: CanonicalEvent) -> str | None:
    """The Cold Mail order an event belongs to, if any."""
    if event.source is not Source.COLDMAIL or event.type not in _FAMILY:
        return None
    order_id = getattr(event.data, "order_id", None)
    return order_id if isinstance(order_id, str) and order_id else None


class ColdMailItem(BaseModel):
    """One item of the order (a domain, a mailbox order, a pre-warm-up order) and its latest outcome."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    family: str
    domain: str | None
    event_type: str
    outcome: Outcome
    at: Stamp


class ColdMailOrderState(BaseModel):
    """The items of one order and its first and last event (provider time)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: str
    items: dict[str, ColdMailItem] = Field(default_factory=dict)
    first_event_at: datetime | None = None
    last_event_at: datetime | None = None

    @property
    def failed_count(self) -> int:
        """Items whose latest outcome is a failure or a cancellation."""
        return sum(1 for item in self.items.values() if item.outcome in (Outcome.FAILURE, Outcome.CANCELED))


def step_coldmail_order(state: ColdMailOrderState | None, order_id: str, event: CanonicalEvent) -> ColdMailOrderState:
    """Fold one event of the order (pure, idempotent, commutative)."""
    if state is None:
        state = ColdMailOrderState(order_id=order_id)
    family = _FAMILY.get(event.type)
    if family is None:
        return state
    domain = event.subject
    candidate = ColdMailItem(
        family=family, domain=domain, event_type=event.type.value, outcome=event.outcome, at=stamp_of(event)
    )
    slot = f"{family}:{domain or '-'}"
    current = state.items.get(slot)
    items = dict(state.items)
    if current is None or candidate.at.key > current.at.key:
        items[slot] = candidate
    first = event.time if state.first_event_at is None else min(state.first_event_at, event.time)
    last = event.time if state.last_event_at is None else max(state.last_event_at, event.time)
    return state.model_copy(
        update={"items": dict(sorted(items.items())), "first_event_at": first, "last_event_at": last}
    )
