"""The `order.settled` event of a Cold Mail order that has been quiet long enough (pure)."""

from __future__ import annotations

from datetime import datetime

from regpipe.aggregate.fold import ColdMailOrderState
from regpipe.aggregate.ids import settled_event_id
from regpipe.contract import CanonicalEvent, EventType, Outcome, Source, Transport
from regpipe.contract.events import OrderSettled, SettledOrderItem

__all__ = ["AGGREGATOR_VERSION", "settled_event"]

#: The `mapper_version` of every event the aggregator synthesises.
AGGREGATOR_VERSION = "aggregator/1.0.0"


def settled_event(state: ColdMailOrderState, *, settled_at: datetime, quiet_period_s: float) -> CanonicalEvent:
    """The order's settled event; its time is the moment it settled (its last event plus the quiet time passed)."""
    items = [
        SettledOrderItem(family=item.family, domain=item.domain, event_type=item.event_type, outcome=item.outcome)
        for item in state.items.values()
    ]
    failed = state.failed_count
    return CanonicalEvent(
        id=settled_event_id(state.order_id),
        source=Source.COLDMAIL,
        type=EventType.ORDER_SETTLED,
        subject=None,
        time=settled_at,
        partition_key=state.order_id,
        outcome=Outcome.FAILURE if failed else Outcome.SUCCESS,
        provider_event_id=None,
        provider_event_type="regpipe.order.settled",
        transport=Transport.PIPELINE,
        mapper_version=AGGREGATOR_VERSION,
        data=OrderSettled(
            order_id=state.order_id,
            items=items,
            succeeded_count=sum(1 for item in items if item.outcome == Outcome.SUCCESS.value),
            failed_count=failed,
            first_event_at=state.first_event_at,
            last_event_at=state.last_event_at,
            quiet_period_s=quiet_period_s,
        ),
    )
