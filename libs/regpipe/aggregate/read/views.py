"""What the read API returns: frozen models built from the read model's rows (no field can hold a secret)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from regpipe.contract.events import ProviderError, TaskItem

__all__ = [
    "BatchView",
    "DomainState",
    "DomainView",
    "HistoryItem",
    "LastEvent",
    "OrderView",
    "Page",
    "TaskView",
    "TimelineItem",
    "TransferView",
]

T = TypeVar("T")


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Page(_View, Generic[T]):
    """One page of a listing; pass `next_cursor` as `cursor` to get the next one (null: this was the last)."""

    items: list[T]
    next_cursor: str | None = None


class LastEvent(_View):
    """The newest event (provider time) folded into a state."""

    id: uuid.UUID
    type: str
    time: datetime


class DomainState(_View):
    """A domain's state at one provider account."""

    provider: str
    account: str = Field(description="The provider account ('' until canonical events carry one).")
    name: str = Field(description="IDNA (punycode) form, lower case.")
    name_unicode: str = Field(description="The same name in Unicode form.")
    status: str | None = Field(
        description="registered, active, expiring, expired, deleting, deleted, blocked, transferred_in, "
        "transferred_out, transfer_pending, registration_failed or pending_verification."
    )
    expires_at: datetime | None
    nameservers: list[str]
    verification_status: str | None
    registrant_change_status: str | None
    transfer_status: str | None
    first_event_at: datetime | None
    last_event: LastEvent | None


class DomainView(_View):
    """Every provider/account state known for one domain name."""

    name: str
    name_unicode: str
    states: list[DomainState]


class TimelineItem(_View):
    """One canonical event of a domain's timeline."""

    id: uuid.UUID
    time: datetime
    provider: str
    type: str
    outcome: str
    transport: str
    data: dict[str, Any]


class OrderView(_View):
    """An order: of a Most batch, an OpenSRS order, or a Cold Mail order (`kind` says which)."""

    kind: str = Field(description="most_batch_order, opensrs_order (any tracked provider order) or coldmail_order.")
    provider: str
    order_id: str
    status: str | None
    terminal: bool
    domain: str | None = None
    batch_id: str | None = None
    status_time: datetime | None = None
    error: ProviderError | None = None
    settled_at: datetime | None = None
    items: list[dict[str, Any]] = Field(default_factory=list, description="Cold Mail: per-domain outcomes.")
    history: list[HistoryItem] = Field(default_factory=list, description="Tracked orders: every status change.")


class HistoryItem(_View):
    """One event of a tracked order, transfer or operation."""

    time: datetime
    event_id: uuid.UUID
    type: str
    status: str


class BatchView(_View):
    """A Most order batch and its orders."""

    provider: str
    batch_id: str
    status: str = Field(description="in_progress, registered (stage 1 done) or completed (stage 2 done).")
    order_count: int
    status_counts: dict[str, int]
    stage1_finished_at: datetime | None
    stage2_finished_at: datetime | None
    orders: list[OrderView]


class TaskView(_View):
    """A Most bulk task and its per-item results (auth codes are never stored)."""

    provider: str
    task_id: str
    task_type: str | None
    status: str | None
    succeeded_count: int
    failed_count: int
    created_at: datetime | None
    completed_at: datetime | None
    items: list[TaskItem]


class TransferView(_View):
    """A domain transfer's current status and history."""

    provider: str
    transfer_id: str
    domain: str | None
    status: str | None
    terminal: bool
    status_time: datetime | None
    history: list[HistoryItem]


OrderView.model_rebuild()
