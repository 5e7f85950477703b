"""Payload models of Most webhooks, as assumed by the team (the provider's examples are not public).

The envelope is `{"id", "type", "created_at", "data"}` (aliases `eventId`, `event`, `createdAt`, `timestamp`
accepted); the `data` shapes follow the provider's prose: tasks (`task.completed`), order batches
(`orders.registered`, `orders.completed`), domain notices (`domain.expiring`, `domain.deleting`, `domain.blocked`,
`domain.complaint`) and `balance.low`. Every model keeps fields it does not name (`model_extra`), so the mapper can
pass them on; camelCase names are the provider's, snake_case names are accepted too. Times are ISO 8601 text or
a number of Unix seconds (our assumption, as Standard Webhooks' `webhook-timestamp`), never read by their size.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, JsonValue

from regpipe.providers.kit.json_document import DecodedObject
from regpipe.providers.kit.times import IsoOrUnixSecondsTime

__all__ = [
    "AuthInfoResult",
    "BalanceLow",
    "BatchOrder",
    "DomainBlocked",
    "DomainComplaint",
    "DomainDeleting",
    "DomainExpiring",
    "MostEnvelope",
    "MostEventType",
    "NameserversResult",
    "OrderBatch",
    "RenewResult",
    "Task",
    "TaskResultItem",
    "TaskType",
]


class MostEventType(StrEnum):
    """The webhook event types Most documents."""

    TASK_COMPLETED = "task.completed"
    ORDERS_REGISTERED = "orders.registered"
    ORDERS_COMPLETED = "orders.completed"
    DOMAIN_EXPIRING = "domain.expiring"
    DOMAIN_DELETING = "domain.deleting"
    DOMAIN_BLOCKED = "domain.blocked"
    DOMAIN_COMPLAINT = "domain.complaint"
    BALANCE_LOW = "balance.low"


class TaskType(StrEnum):
    """The bulk operations a Most task runs (others may appear)."""

    RENEW = "domain.renew"
    SET_NAMESERVERS = "domain.set_nameservers"
    GET_AUTH_INFO = "domain.get_auth_info"


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class _Payload(BaseModel):
    # extra="allow": unknown fields are kept for provider_fields; ids may come as numbers.
    model_config = ConfigDict(frozen=True, extra="allow", coerce_numbers_to_str=True, populate_by_name=True)

    @property
    def extras(self) -> dict[str, Any]:
        """The fields this model does not name, verbatim."""
        return dict(self.model_extra or {})


#: A provider error: a message, or an object such as {"code": ..., "message": ...}.
ErrorValue = str | dict[str, JsonValue]


class MostEnvelope(_Payload):
    """The webhook envelope (assumed; see docs/taxonomy.md)."""

    id: str | None = Field(default=None, validation_alias=_alias("id", "eventId", "event_id"))
    type: str = Field(min_length=1, validation_alias=_alias("type", "event", "eventType", "event_type"))
    created_at: IsoOrUnixSecondsTime | None = Field(
        default=None, validation_alias=_alias("created_at", "createdAt", "timestamp", "time")
    )
    data: DecodedObject = Field(default_factory=dict)


class TaskResultItem(_Payload):
    """One item of a task's `result[]`: one domain, whether it succeeded, its data or its error."""

    domain: str | None = Field(default=None, validation_alias=_alias("domain", "domainName", "domain_name"))
    ok: bool
    data: DecodedObject | None = None
    error: ErrorValue | None = None


class Task(_Payload):
    """`task.completed` data: the task as `GET /v1/tasks/{id}` returns it."""

    task_id: str = Field(min_length=1, validation_alias=_alias("taskId", "task_id", "id"))
    type: str = Field(min_length=1)
    status: str = Field(min_length=1)
    created_at: IsoOrUnixSecondsTime | None = Field(default=None, validation_alias=_alias("createdAt", "created_at"))
    completed_at: IsoOrUnixSecondsTime | None = Field(
        default=None, validation_alias=_alias("completedAt", "completed_at")
    )
    result: list[TaskResultItem] = Field(default_factory=list)


class RenewResult(_Payload):
    """`result[].data` of a `domain.renew` item."""

    term: int | None = Field(default=None, ge=0)
    new_expiry: IsoOrUnixSecondsTime | None = Field(default=None, validation_alias=_alias("newExpiry", "new_expiry"))


class NameserversResult(_Payload):
    """`result[].data` of a `domain.set_nameservers` item."""

    nameservers: list[str] = Field(default_factory=list)


class AuthInfoResult(_Payload):
    """`result[].data` of a `domain.get_auth_info` item, after its `authInfo` secret was removed."""

    recipient: str | None = None


class BatchOrder(_Payload):
    """One order of an order batch."""

    order_id: str | None = Field(default=None, validation_alias=_alias("orderId", "order_id", "id"))
    domain: str | None = Field(default=None, validation_alias=_alias("domain", "domainName", "domain_name"))
    status: str | None = None
    error: ErrorValue | None = None


class OrderBatch(_Payload):
    """`orders.registered` / `orders.completed` data: the batch, its orders and the per-state counts."""

    batch_id: str = Field(min_length=1, validation_alias=_alias("batchId", "batch_id", "id"))
    orders: list[BatchOrder] = Field(default_factory=list)
    registered: int | None = Field(default=None, ge=0)
    failed: int | None = Field(default=None, ge=0)
    completed: int | None = Field(default=None, ge=0)


class _DomainNotice(_Payload):
    domain: str = Field(min_length=1, validation_alias=_alias("domain", "domainName", "domain_name"))
    domain_id: str | None = Field(default=None, validation_alias=_alias("domainId", "domain_id"))


class DomainExpiring(_DomainNotice):
    """`domain.expiring` data."""

    checkpoint: int | None = None
    days_left: float | None = Field(default=None, validation_alias=_alias("daysLeft", "days_left"))
    expires_at: IsoOrUnixSecondsTime | None = Field(default=None, validation_alias=_alias("expiresAt", "expires_at"))


class DomainDeleting(_DomainNotice):
    """`domain.deleting` data."""

    expires_at: IsoOrUnixSecondsTime | None = Field(default=None, validation_alias=_alias("expiresAt", "expires_at"))
    delete_at: IsoOrUnixSecondsTime | None = Field(
        default=None, validation_alias=_alias("deleteAt", "delete_at", "deletesAt")
    )


class DomainBlocked(_DomainNotice):
    """`domain.blocked` data."""

    reason: str | None = None
    source: str | None = None
    registrar: str | None = None


class DomainComplaint(_DomainNotice):
    """`domain.complaint` data (reserved by the provider: shape subject to change)."""

    complaint_id: str | None = Field(default=None, validation_alias=_alias("complaintId", "complaint_id", "id"))
    category: str | None = None
    details: str | None = None
    received_at: IsoOrUnixSecondsTime | None = Field(default=None, validation_alias=_alias("receivedAt", "received_at"))
    respond_by: IsoOrUnixSecondsTime | None = Field(default=None, validation_alias=_alias("respondBy", "respond_by"))


class BalanceLow(_Payload):
    """`balance.low` data: one event per threshold crossed downwards."""

    threshold: Decimal | None = None
    balance: Decimal | None = None
    source: str | None = None
    currency: str | None = None
