"""Canonical events for aggregator tests, built directly from the contract (ids deterministic from a name)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from regpipe.contract import DATA_MODELS, CanonicalEvent, EventType, Outcome, Source, Transport, normalize_domain

T0 = datetime(2026, 10, 1, tzinfo=UTC)
_NS = uuid.UUID("0b4c2a8e-2f57-4d0e-9a1c-6e2f3d4b5a69")
_TRANSPORT = {
    Source.MOST: Transport.WEBHOOK,
    Source.COLDMAIL: Transport.WEBHOOK,
    Source.OPENSRS: Transport.POLL,
    Source.OPUSDNS: Transport.POLL,
}


def event(
    name: str,
    source: Source,
    type_: EventType,
    *,
    minute: float,
    data: dict[str, Any],
    outcome: Outcome = Outcome.SUCCESS,
    subject: str | None = None,
    key: str | None = None,
    transport: Transport | None = None,
) -> CanonicalEvent:
    """One canonical event; `name` makes its id, `minute` its provider time (minutes after T0)."""
    return CanonicalEvent(
        id=uuid.uuid5(_NS, name),
        source=source,
        type=type_,
        subject=subject,
        time=T0 + timedelta(minutes=minute),
        partition_key=key or subject or name,
        outcome=outcome,
        provider_event_id=name,
        provider_event_type=type_.value,
        transport=transport or _TRANSPORT[source],
        mapper_version=f"{source.value}/1.0.0",
        data=DATA_MODELS[type_].model_validate(data),
    )


def domain_event(
    name: str,
    source: Source,
    type_: EventType,
    domain: str,
    *,
    minute: float,
    outcome: Outcome = Outcome.SUCCESS,
    **data: Any,
) -> CanonicalEvent:
    """An event about one domain."""
    subject = normalize_domain(domain)
    return event(name, source, type_, minute=minute, data={"domain": domain, **data}, outcome=outcome, subject=subject)


def batch_event(
    name: str, type_: EventType, batch_id: str, orders: list[tuple[str, str, str]], *, minute: float
) -> CanonicalEvent:
    """A Most `order_batch.*` event; `orders` are (order id, domain, status)."""
    failed = sum(1 for _, _, status in orders if status == "FAILED")
    return event(
        name,
        Source.MOST,
        type_,
        minute=minute,
        outcome=Outcome.FAILURE if failed else Outcome.SUCCESS,
        key=batch_id,
        data={
            "batch_id": batch_id,
            "orders": [{"order_id": o, "domain": d, "status": s} for o, d, s in orders],
            "failed_count": failed,
            "registered_count": len(orders) - failed,
        },
    )


def order_event(
    name: str,
    batch_id: str | None,
    order_id: str,
    domain: str,
    status: str,
    *,
    minute: float,
    source: Source = Source.MOST,
) -> CanonicalEvent:
    """An `order.status_changed` (of a Most batch when `batch_id` is set)."""
    outcome = {"COMPLETED": Outcome.SUCCESS, "FAILED": Outcome.FAILURE, "completed": Outcome.SUCCESS}.get(
        status, Outcome.NOTIFICATION
    )
    return event(
        name,
        source,
        EventType.ORDER_STATUS_CHANGED,
        minute=minute,
        outcome=outcome,
        subject=domain,
        data={"order_id": order_id, "domain": domain, "order_status": status, "batch_id": batch_id},
    )
