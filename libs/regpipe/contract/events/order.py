"""Data models of order events: one order's status and claim changes (OpenSRS, Most), and order batches whose
stages completed (Most `orders.registered` / `orders.completed`)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from regpipe.contract.events.base import DomainName, EventData, ProviderError, ProviderFields, known_values

__all__ = [
    "BatchOrder",
    "OrderBatchCompleted",
    "OrderBatchEventData",
    "OrderBatchRegistered",
    "OrderClaimStatusChanged",
    "OrderEventData",
    "OrderSettled",
    "OrderStatusChanged",
    "SettledOrderItem",
]

_ORDER_STATUSES = [
    # OpenSRS ORDER STATUS_CHANGE
    "cancelled",
    "completed",
    "declined",
    "pending",
    "pending_fax",
    "processed",
    "waiting",
    # Most order batches
    "REGISTERED",
    "SETTING_NS",
    "COMPLETED",
    "FAILED",
]


class OrderEventData(EventData):
    """Fields every event about one order has; partitioned by the domain when there is one."""

    order_id: str = Field(min_length=1, description="The provider's order id.")
    domain: DomainName | None = Field(default=None, description="Domain name the order is for (IDNA, lower case).")


class OrderStatusChanged(OrderEventData):
    """Emitted when one order changed state: an OpenSRS ORDER STATUS_CHANGE, or (fanned out of a Most order-batch
    event) the state of each order of the batch at that moment."""

    order_status: str | None = known_values(_ORDER_STATUSES, "The order's new state, as the provider names it.")
    order_reg_type: str | None = known_values(
        ["landrush", "new", "premium", "renewal", "sunrise", "transfer", "whois_privacy"],
        "What kind of order it is (OpenSRS).",
    )
    batch_id: str | None = Field(default=None, description="The order batch it belongs to (Most).")
    item_index: int | None = Field(default=None, ge=0, description="Position of the order in its batch event.")
    price: Decimal | None = Field(default=None, description="Price of the order, when the provider says.")


class OrderClaimStatusChanged(OrderEventData):
    """Emitted when the trademark-claim status of an order changed (OpenSRS ORDER CLAIM_STATUS_CHANGE)."""

    claim_status: str | None = known_values(
        ["initiated", "declined", "cancelled", "accepted"], "The claim's new state (OpenSRS)."
    )


class BatchOrder(BaseModel):
    """One order of an order batch, as listed in the batch event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: str | None = Field(default=None, description="The provider's order id.")
    domain: DomainName | None = Field(default=None, description="Domain name ordered (IDNA, lower case).")
    status: str | None = known_values(["REGISTERED", "SETTING_NS", "COMPLETED", "FAILED"], "The order's state.")
    error: ProviderError | None = Field(default=None, description="Why the order failed.")
    provider_fields: ProviderFields = Field(
        default_factory=dict, description="Fields of the order not modelled above, kept verbatim."
    )


class OrderBatchEventData(EventData):
    """Fields every order-batch event has; partitioned by the batch id."""

    batch_id: str = Field(min_length=1, description="The provider's batch id.")
    orders: list[BatchOrder] = Field(default_factory=list, description="Every order of the batch (up to 50).")
    registered_count: int | None = Field(default=None, ge=0, description="Orders that cleared registration.")
    failed_count: int | None = Field(default=None, ge=0, description="Orders that failed.")
    completed_count: int | None = Field(default=None, ge=0, description="Orders fully configured.")


class OrderBatchRegistered(OrderBatchEventData):
    """Emitted once per batch when every order of it cleared stage 1 (registration), whether or not nameservers
    are applied yet; orders that failed in stage 1 are counted in `failed_count`, not in `registered_count`."""


class OrderBatchCompleted(OrderBatchEventData):
    """Emitted once per batch when every order of it reached a terminal state (COMPLETED or FAILED)."""


class SettledOrderItem(BaseModel):
    """One domain (or mailbox / pre-warm-up) outcome within a settled order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    family: str = known_values(["domain", "mailbox", "prewarmup"], "What the item is about.", default=...)
    domain: DomainName | None = Field(default=None, description="Domain name (IDNA, lower case), when there is one.")
    event_type: str = Field(description="The canonical type of the item's latest event (provider time).")
    outcome: str = known_values(["success", "failure", "canceled", "notification"], "The item's outcome.", default=...)


class OrderSettled(OrderEventData):
    """Emitted by the pipeline (transport `pipeline`) once per order whose provider sends no expected item count
    (Cold Mail), when no event of the order arrived for the configured quiet time: the per-domain outcomes so far."""

    items: list[SettledOrderItem] = Field(default_factory=list, description="Per-domain outcomes, sorted.")
    succeeded_count: int = Field(default=0, ge=0, description="Items whose outcome is success.")
    failed_count: int = Field(default=0, ge=0, description="Items whose outcome is failure or canceled.")
    first_event_at: AwareDatetime | None = Field(default=None, description="Provider time of the order's first event.")
    last_event_at: AwareDatetime | None = Field(default=None, description="Provider time of the order's last event.")
    quiet_period_s: float = Field(default=0, ge=0, description="The quiet time after which the order was settled.")
