"""The delivery service's admin API as the console uses it: endpoints, attempts, DLQ, and the operator actions."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import TypeAdapter

from regpipe.console.http_source import HttpSource
from regpipe.delivery.admin_api import (
    EndpointSuccess,
    EventDeliveries,
    RedeliveryPreview,
    SecretRotation,
    StoredEvent,
)
from regpipe.delivery.models import AttemptRecord, DeadJob, OperatorEvent, RedeliveryReport, Subscription

__all__ = ["DeliveryAdminClient"]

_SUBSCRIPTIONS = TypeAdapter(list[Subscription])
_ATTEMPTS = TypeAdapter(list[AttemptRecord])
_DEAD = TypeAdapter(list[DeadJob])
_OPERATOR_EVENTS = TypeAdapter(list[OperatorEvent])
_EVENT_DELIVERIES = TypeAdapter(list[EventDeliveries])
_SUCCESS = TypeAdapter(list[EndpointSuccess])


class DeliveryAdminClient:
    """Typed calls of the admin API (`regpipe.delivery.admin_api`)."""

    def __init__(self, source: HttpSource) -> None:
        self._source = source

    async def endpoints(self) -> list[Subscription]:
        """Every subscription with its endpoint's health."""
        return await self._source.call(_SUBSCRIPTIONS, "GET", "/v1/subscriptions")

    async def endpoint_success(self, *, window: int = 100) -> dict[uuid.UUID, EndpointSuccess]:
        """Per endpoint, how its latest `window` attempts went."""
        found = await self._source.call(_SUCCESS, "GET", "/v1/endpoint-success", params={"window": window})
        return {item.subscription_id: item for item in found}

    async def endpoint(self, subscription_id: uuid.UUID) -> Subscription:
        """One subscription."""
        return await self._source.call(Subscription, "GET", f"/v1/subscriptions/{subscription_id}")

    async def endpoint_attempts(self, subscription_id: uuid.UUID, *, limit: int = 100) -> list[AttemptRecord]:
        """An endpoint's latest attempts, newest first."""
        path = f"/v1/subscriptions/{subscription_id}/attempts"
        return await self._source.call(_ATTEMPTS, "GET", path, params={"limit": limit})

    async def event_attempts(self, event_id: uuid.UUID, *, limit: int = 100) -> list[AttemptRecord]:
        """Every attempt to deliver one event, newest first."""
        return await self._source.call(_ATTEMPTS, "GET", f"/v1/events/{event_id}/attempts", params={"limit": limit})

    async def stored_event(self, event_id: uuid.UUID) -> StoredEvent:
        """The stored webhook body of an event."""
        return await self._source.call(StoredEvent, "GET", f"/v1/events/{event_id}")

    async def event_deliveries(self, event_ids: list[uuid.UUID]) -> list[EventDeliveries]:
        """Raw position and latest attempts of each event of a page."""
        if not event_ids:
            return []
        params = [("event_id", str(event_id)) for event_id in event_ids]
        return await self._source.call(_EVENT_DELIVERIES, "GET", "/v1/event-deliveries", params=params)

    async def dead_letters(self, *, subscription_id: uuid.UUID | None = None, limit: int = 100) -> list[DeadJob]:
        """The DLQ, newest first."""
        params = {"subscription_id": str(subscription_id) if subscription_id else None, "limit": limit}
        return await self._source.call(_DEAD, "GET", "/v1/dlq", params=params)

    async def operator_events(self, *, limit: int = 100) -> list[OperatorEvent]:
        """Endpoints disabled automatically, newest first."""
        return await self._source.call(_OPERATOR_EVENTS, "GET", "/v1/operator-events", params={"limit": limit})

    async def set_enabled(self, subscription_id: uuid.UUID, enabled: bool) -> Subscription:
        """Enable or disable an endpoint."""
        verb = "enable" if enabled else "disable"
        return await self._source.call(Subscription, "POST", f"/v1/subscriptions/{subscription_id}/{verb}")

    async def rotate_secret(self, subscription_id: uuid.UUID) -> SecretRotation:
        """A new signing secret (in the answer only)."""
        return await self._source.call(SecretRotation, "POST", f"/v1/subscriptions/{subscription_id}/rotate-secret")

    async def preview_event(self, subscription_id: uuid.UUID, event_id: uuid.UUID) -> RedeliveryPreview:
        """How many deliveries redelivering one event would make."""
        path = f"/v1/subscriptions/{subscription_id}/redeliver-preview/{event_id}"
        return await self._source.call(RedeliveryPreview, "GET", path)

    async def preview_range(self, subscription_id: uuid.UUID, since: datetime, until: datetime) -> RedeliveryPreview:
        """How many deliveries redelivering a time range would make."""
        params = {"since": since.isoformat(), "until": until.isoformat()}
        path = f"/v1/subscriptions/{subscription_id}/redeliver-preview"
        return await self._source.call(RedeliveryPreview, "GET", path, params=params)

    async def preview_failed(self, since: datetime, subscription_id: uuid.UUID | None) -> RedeliveryPreview:
        """How many deliveries redelivering every failed one since a time would make."""
        params = {"since": since.isoformat(), "subscription_id": str(subscription_id) if subscription_id else None}
        return await self._source.call(RedeliveryPreview, "GET", "/v1/redeliver-failed-preview", params=params)

    async def redeliver_event(self, subscription_id: uuid.UUID, event_id: uuid.UUID) -> RedeliveryReport:
        """Send one event to the endpoint again (same `webhook-id`)."""
        path = f"/v1/subscriptions/{subscription_id}/redeliver/{event_id}"
        return await self._source.call(RedeliveryReport, "POST", path)

    async def redeliver_range(self, subscription_id: uuid.UUID, since: datetime, until: datetime) -> RedeliveryReport:
        """Send every event of a time range again."""
        body = {"since": since.isoformat(), "until": until.isoformat()}
        path = f"/v1/subscriptions/{subscription_id}/redeliver"
        return await self._source.call(RedeliveryReport, "POST", path, json=body)

    async def redeliver_failed(self, since: datetime, subscription_id: uuid.UUID | None) -> RedeliveryReport:
        """Give every delivery that died since a time a fresh schedule."""
        body = {"since": since.isoformat(), "subscription_id": str(subscription_id) if subscription_id else None}
        return await self._source.call(RedeliveryReport, "POST", "/v1/redeliver-failed", json=body)
