"""The Most order-batch aggregate: every order of a batch through REGISTERED, SETTING_NS, COMPLETED, FAILED.

Fed by `order_batch.registered`, `order_batch.completed` and the per-order `order.status_changed` events, in
whatever order and however often they arrive. An order's status only moves forward (REGISTERED < SETTING_NS <
COMPLETED | FAILED; provider time decides between equals), so a late stage-1 event never rolls back a completed
order; an event for an unknown batch creates it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from regpipe.aggregate.fold.stamp import Register, Stamp, later, stamp_of
from regpipe.contract import CanonicalEvent, EventType
from regpipe.contract.events import OrderBatchEventData, OrderStatusChanged, ProviderError

__all__ = ["BatchKey", "BatchOrder", "BatchState", "OrderObservation", "order_rank", "step_batch"]

_RANK = {"REGISTERED": 1, "SETTING_NS": 2, "COMPLETED": 3, "FAILED": 3}
TERMINAL = frozenset({"COMPLETED", "FAILED"})
# Parametrised once, as in `domain`: subscripting a generic model on every event costs a cache lookup each time.
_CountsRegister = Register[dict[str, int]]


def order_rank(status: str | None) -> int:
    """How far along an order status is (unknown values rank lowest, so a known state is never rolled back)."""
    return _RANK.get((status or "").upper(), 0)


# A dataclass rather than a model: a key is built for every event and hashed at every lookup, from values the
# event's validation already checked.
@dataclass(frozen=True, slots=True, kw_only=True)
class BatchKey:
    """Which batch an event is about."""

    provider: str
    batch_id: str


class OrderObservation(BaseModel):
    """One event's view of one order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: str | None
    error: ProviderError | None = None
    at: Stamp

    @property
    def key(self) -> tuple[int, datetime, str]:
        """Forward progress first, then provider time."""
        return (order_rank(self.status), *self.at.key)


class BatchOrder(BaseModel):
    """One order of the batch: its latest observation and the domain it is for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: str | None
    domain: str | None
    current: OrderObservation


class BatchState(BaseModel):
    """A batch, its orders (by order id, else by domain) and when each stage was reported finished."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    batch_id: str
    orders: dict[str, BatchOrder] = Field(default_factory=dict)
    stage1_finished: Stamp | None = None
    stage2_finished: Stamp | None = None
    reported_counts: Register[dict[str, int]] | None = None

    @property
    def status_counts(self) -> dict[str, int]:
        """Orders per status."""
        counts: dict[str, int] = {}
        for order in self.orders.values():
            status = order.current.status or "UNKNOWN"
            counts[status] = counts.get(status, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def status(self) -> str:
        """`completed` when stage 2 was reported or every order is terminal, `registered` after stage 1, else
        `in_progress`."""
        statuses = [(order.current.status or "").upper() for order in self.orders.values()]
        if self.stage2_finished is not None or (statuses and all(s in TERMINAL for s in statuses)):
            return "completed"
        if self.stage1_finished is not None or (statuses and all(order_rank(s) >= 1 for s in statuses)):
            return "registered"
        return "in_progress"


def _earliest(current: Stamp | None, candidate: Stamp) -> Stamp:
    return candidate if current is None or candidate.key < current.key else current


def _merge_order(current: BatchOrder | None, candidate: BatchOrder) -> BatchOrder:
    if current is None:
        return candidate
    domain = min(d for d in (current.domain, candidate.domain) if d) if (current.domain or candidate.domain) else None
    best = candidate.current if candidate.current.key > current.current.key else current.current
    return BatchOrder(order_id=current.order_id or candidate.order_id, domain=domain, current=best)


def _order_key(order_id: str | None, domain: str | None, index: int) -> str:
    if order_id:
        return order_id
    return f"domain:{domain}" if domain else f"item:{index}"


def step_batch(state: BatchState | None, key: BatchKey, event: CanonicalEvent) -> BatchState:
    """Fold one batch or per-order event into the batch's state (pure, idempotent, commutative)."""
    if state is None:
        state = BatchState(provider=key.provider, batch_id=key.batch_id)
    at = stamp_of(event)
    orders = dict(state.orders)
    changes: dict[str, object] = {}
    data = event.data
    if isinstance(data, OrderBatchEventData):
        for index, item in enumerate(data.orders):
            observed = BatchOrder(
                order_id=item.order_id,
                domain=item.domain,
                current=OrderObservation(status=item.status, error=item.error, at=at),
            )
            slot = _order_key(item.order_id, item.domain, index)
            orders[slot] = _merge_order(orders.get(slot), observed)
        counts = {
            name: value
            for name, value in (
                ("registered", data.registered_count),
                ("failed", data.failed_count),
                ("completed", data.completed_count),
            )
            if value is not None
        }
        changes["reported_counts"] = later(state.reported_counts, _CountsRegister(value=counts, at=at))
        if event.type is EventType.ORDER_BATCH_REGISTERED:
            changes["stage1_finished"] = _earliest(state.stage1_finished, at)
        elif event.type is EventType.ORDER_BATCH_COMPLETED:
            changes["stage2_finished"] = _earliest(state.stage2_finished, at)
    elif isinstance(data, OrderStatusChanged):
        observed = BatchOrder(
            order_id=data.order_id,
            domain=data.domain,
            current=OrderObservation(status=data.order_status, error=data.error, at=at),
        )
        slot = _order_key(data.order_id, data.domain, 0)
        orders[slot] = _merge_order(orders.get(slot), observed)
    changes["orders"] = dict(sorted(orders.items()))
    return state.model_copy(update=changes)
