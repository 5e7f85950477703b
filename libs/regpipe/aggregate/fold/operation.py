"""Provider-side operations tracked by id: OpenSRS orders, transfers (OpenSRS, OpusDNS) and OpusDNS domain operations.

Each keeps its current status (provider time decides), whether that status is terminal, and its whole history.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from regpipe.aggregate.fold.stamp import Register, Stamp, later, stamp_of
from regpipe.contract import CanonicalEvent, EventType, Outcome, Source
from regpipe.contract.events import DomainOperationNotification, DomainTransferStatusChanged, OrderStatusChanged

__all__ = ["OperationKey", "OperationKind", "OperationState", "OperationStatus", "operation_key", "step_operation"]


class OperationKind(StrEnum):
    """What is tracked."""

    ORDER = "order"
    TRANSFER = "transfer"
    OPERATION = "operation"


_TERMINAL_ORDER = frozenset({"completed", "processed", "declined", "cancelled", "canceled", "failed"})
_OPUSDNS_OPERATIONS = {
    EventType.DOMAIN_REGISTERED: "registration",
    EventType.DOMAIN_REGISTRATION_FAILED: "registration",
    EventType.DOMAIN_RENEWED: "renewal",
    EventType.DOMAIN_RENEWAL_FAILED: "renewal",
    EventType.DOMAIN_DELETED: "deletion",
    EventType.DOMAIN_DELETION_FAILED: "deletion",
    EventType.DOMAIN_MODIFIED: "modification",
    EventType.DOMAIN_MODIFICATION_FAILED: "modification",
}
_STATUS_BY_OUTCOME = {
    Outcome.SUCCESS: "completed",
    Outcome.FAILURE: "failed",
    Outcome.CANCELED: "cancelled",
    Outcome.NOTIFICATION: "pending",
}


# A dataclass rather than a model: a key is built for every event and hashed at every lookup, from values the
# event's validation already checked.
@dataclass(frozen=True, slots=True, kw_only=True)
class OperationKey:
    """Which tracked operation an event is about."""

    kind: OperationKind
    provider: str
    op_id: str


class OperationStatus(BaseModel):
    """A status and whether it ends the operation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: str
    terminal: bool


class HistoryEntry(BaseModel):
    """One event of the operation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: Stamp
    type: str
    status: str


class OperationState(BaseModel):
    """Current status and history (sorted by provider time, each event once)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: OperationKind
    provider: str
    op_id: str
    domain: str | None = None
    current: Register[OperationStatus] | None = None
    history: tuple[HistoryEntry, ...] = Field(default=())


# Parametrised once, as in `domain`: subscripting a generic model on every event costs a cache lookup each time.
_StatusRegister = Register[OperationStatus]


def _domain_ref(event: CanonicalEvent) -> str | None:
    return event.subject or getattr(event.data, "domain_id", None)


def operation_key(event: CanonicalEvent) -> OperationKey | None:
    """The tracked operation an event updates, if any (Most orders belong to their batch instead)."""
    data = event.data
    provider = event.source.value
    if isinstance(data, OrderStatusChanged) and data.batch_id is None:
        return OperationKey(kind=OperationKind.ORDER, provider=provider, op_id=data.order_id)
    if event.type is EventType.ORDER_CLAIM_STATUS_CHANGED and event.source is not Source.MOST:
        return OperationKey(kind=OperationKind.ORDER, provider=provider, op_id=str(getattr(data, "order_id", "")))
    if isinstance(data, DomainTransferStatusChanged):
        op_id = data.transfer_id or f"{_domain_ref(event)}:{data.direction or 'transfer'}"
        return OperationKey(kind=OperationKind.TRANSFER, provider=provider, op_id=op_id)
    if event.source is Source.OPUSDNS:
        name = _OPUSDNS_OPERATIONS.get(event.type)
        if isinstance(data, DomainOperationNotification):
            name = data.operation
        if name is not None and _domain_ref(event):
            return OperationKey(kind=OperationKind.OPERATION, provider=provider, op_id=f"{_domain_ref(event)}:{name}")
    return None


def _status(event: CanonicalEvent) -> OperationStatus | None:
    data = event.data
    if isinstance(data, OrderStatusChanged):
        status = data.order_status or _STATUS_BY_OUTCOME[event.outcome]
        return OperationStatus(status=status, terminal=status.lower() in _TERMINAL_ORDER)
    if event.type is EventType.ORDER_CLAIM_STATUS_CHANGED:
        return None  # a claim's state is history, not the order's status
    if isinstance(data, DomainTransferStatusChanged):
        status = data.transfer_status or _STATUS_BY_OUTCOME[event.outcome]
        return OperationStatus(status=status, terminal=event.outcome is not Outcome.NOTIFICATION)
    return OperationStatus(status=_STATUS_BY_OUTCOME[event.outcome], terminal=event.outcome is not Outcome.NOTIFICATION)


def step_operation(state: OperationState | None, key: OperationKey, event: CanonicalEvent) -> OperationState:
    """Fold one event into a tracked operation (pure, idempotent, commutative)."""
    if state is None:
        state = OperationState(kind=key.kind, provider=key.provider, op_id=key.op_id)
    at = stamp_of(event)
    status = _status(event)
    changes: dict[str, object] = {}
    if status is not None:
        changes["current"] = later(state.current, _StatusRegister(value=status, at=at))
    shown = status.status if status is not None else str(getattr(event.data, "claim_status", None) or "claim")
    entry = HistoryEntry(at=at, type=event.type.value, status=shown)
    if all(existing.at.event_id != entry.at.event_id for existing in state.history):
        changes["history"] = tuple(sorted((*state.history, entry), key=lambda item: item.at.key))
    domain = event.subject
    if domain and (state.domain is None or domain < state.domain):
        changes["domain"] = domain
    return state.model_copy(update=changes)
