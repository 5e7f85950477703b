"""Deliveries: endpoints with health, attempts per endpoint and per event, the DLQ."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.responses import Response

from regpipe.console.context import context_of, render, require_role
from regpipe.console.payload import pretty_json
from regpipe.delivery.models import AttemptRecord, Subscription

__all__ = ["EndpointHealthRow", "router", "success_rate"]

router = APIRouter()

#: Success rate is over an endpoint's latest attempts (the admin API lists them newest first).
HEALTH_WINDOW = 100


@dataclass(frozen=True, slots=True)
class EndpointHealthRow:
    """An endpoint and how its latest attempts went."""

    endpoint: Subscription
    success_rate: float | None
    attempts: int


def success_rate(attempts: list[AttemptRecord]) -> float | None:
    """The share of delivered attempts, or None without attempts."""
    if not attempts:
        return None
    return sum(1 for a in attempts if a.outcome == "delivered") / len(attempts)


@router.get("/deliveries")
async def deliveries(request: Request) -> Response:
    require_role(request)
    delivery = context_of(request).sources.delivery
    endpoints, success, dead, disabled = await asyncio.gather(
        delivery.endpoints(),
        delivery.endpoint_success(window=HEALTH_WINDOW),
        delivery.dead_letters(limit=50),
        delivery.operator_events(limit=20),
    )
    rows = []
    for e in endpoints:
        counted = success.get(e.id)
        attempts = counted.attempts if counted else 0
        rate = counted.delivered / attempts if counted and attempts else None
        rows.append(EndpointHealthRow(e, rate, attempts))
    return render(request, "deliveries.html", {"rows": rows, "dead": dead, "operator_events": disabled})


@router.get("/deliveries/endpoints/{subscription_id}")
async def endpoint(request: Request, subscription_id: uuid.UUID) -> Response:
    require_role(request)
    delivery = context_of(request).sources.delivery
    found, attempts, dead = await asyncio.gather(
        delivery.endpoint(subscription_id),
        delivery.endpoint_attempts(subscription_id, limit=HEALTH_WINDOW),
        delivery.dead_letters(subscription_id=subscription_id, limit=50),
    )
    values = {"endpoint": found, "attempts": attempts, "dead": dead, "success_rate": success_rate(attempts)}
    return render(request, "endpoint.html", values)


@router.get("/deliveries/events/{event_id}")
async def event(request: Request, event_id: uuid.UUID) -> Response:
    require_role(request)
    delivery = context_of(request).sources.delivery
    stored, attempts, endpoints = await asyncio.gather(
        delivery.stored_event(event_id), delivery.event_attempts(event_id), delivery.endpoints()
    )
    values = {"event": stored, "attempts": attempts, "endpoints": endpoints, "pretty_json": pretty_json}
    return render(request, "event.html", values)
