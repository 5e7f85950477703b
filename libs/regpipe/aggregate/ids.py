"""Deterministic ids of the events the aggregator synthesises: UUIDv5 over the aggregate and the transition.

The same transition always gets the same id, so a re-sent outbox row, a replayed checkpoint or a second replica's
attempt is recognised as the same event by the deduplicator and by consumers.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from regpipe.contract.ids import NAMESPACE

__all__ = ["checkpoint_event_id", "settled_event_id"]


def _id(*parts: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "\x1f".join(("aggregate", *parts)))


def settled_event_id(order_id: str) -> uuid.UUID:
    """The `order.settled` event of a Cold Mail order (an order settles once)."""
    return _id("coldmail-order", order_id, "settled")


def checkpoint_event_id(provider: str, account: str, domain: str, expires_at: datetime, checkpoint: int) -> uuid.UUID:
    """The expiry checkpoint `checkpoint` (days) of one expiry period (`expires_at`) of one domain."""
    return _id("expiry-checkpoint", provider, account, domain, expires_at.isoformat(), str(checkpoint))
