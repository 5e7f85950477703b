"""The admin HTTP API (FastAPI, OpenAPI at `/docs`): subscriptions, attempts, the dead-letter list, redelivery.

Every `/v1` route needs `Authorization: Bearer <token>` (401 otherwise; with no token configured the API is
locked). Bad input is a 422 with a JSON body. A secret appears in exactly two answers, creation and rotation,
and never in a log. `/healthz`, `/readyz` and `/metrics` are open, for probes and scrapers.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import asyncpg
import orjson
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr

from regpipe.contract.sealing import RawSealer
from regpipe.delivery import history, redelivery, subscriptions
from regpipe.delivery.address_guard import AddressGuard
from regpipe.delivery.errors import InvalidSubscriptionError, SubscriptionNotFoundError
from regpipe.delivery.filters import EventFilter
from regpipe.delivery.models import (
    AttemptRecord,
    DeadJob,
    OperatorEvent,
    RangeRedelivery,
    RedeliveryReport,
    Subscription,
    SubscriptionSpec,
)
from regpipe.delivery.signing import NO_SEALING
from regpipe.runtime.health import ReadinessCheck, health_app
from regpipe.runtime.tokens import BearerAuth

__all__ = ["create_admin_app"]

_MAX_OVERLAP_S = 30 * 24 * 3600


class SubscriptionWithSecret(BaseModel):
    """A new subscription and its signing secret, shown this once."""

    subscription: Subscription
    secret: str = Field(description="`whsec_...`: store it now, it is never shown again")


class SecretRotation(BaseModel):
    """The new secret (shown once); the previous ones keep signing until `previous_valid_until`."""

    subscription_id: uuid.UUID
    secret: str
    previous_valid_until: datetime


class RotateRequest(BaseModel):
    """How long the current secret keeps signing beside the new one."""

    model_config = ConfigDict(extra="forbid")

    overlap_s: float = Field(default=subscriptions.DEFAULT_OVERLAP_S, ge=0, le=_MAX_OVERLAP_S)


class FailedRedelivery(BaseModel):
    """Every dead job since a time (of one endpoint, or of all)."""

    model_config = ConfigDict(extra="forbid")

    since: AwareDatetime
    subscription_id: uuid.UUID | None = None


class RedeliveryPreview(BaseModel):
    """What a redelivery would do, without doing it (the console's confirmation page)."""

    would_schedule: int = Field(description="Deliveries the same redelivery request would schedule now")


class StoredEvent(BaseModel):
    """A canonical event as delivery stored it: the exact webhook body (structured CloudEvents JSON)."""

    event_id: uuid.UUID
    event_type: str
    source: str
    subject: str | None
    event_time: datetime
    received_at: datetime
    body: dict[str, Any] = Field(description="The webhook body, including the raw record's position (`lineage`)")


class EventDeliveries(BaseModel):
    """One event's delivery story: its stored webhook body's raw position, and its attempts (newest first)."""

    event_id: uuid.UUID
    stored: bool = Field(description="False: the event matched no subscription, so nothing was sent")
    lineage: dict[str, Any] | None = Field(description="Topic, partition and offset of the raw record it came from")
    attempts: list[AttemptRecord]


class EndpointSuccess(BaseModel):
    """How an endpoint's latest attempts went (its success rate over a window)."""

    subscription_id: uuid.UUID
    attempts: int = Field(description="Attempts in the window (at most `window`)")
    delivered: int


_SUCCESS = """
SELECT s.id AS subscription_id, count(a.outcome) AS attempts,
       count(a.outcome) FILTER (WHERE a.outcome = 'delivered') AS delivered
FROM delivery_subscriptions s
LEFT JOIN LATERAL (SELECT outcome FROM delivery_attempts
                   WHERE subscription_id = s.id ORDER BY attempted_at DESC LIMIT $1) AS a ON true
GROUP BY s.id
"""

_MAX_EVENTS_LOOKUP = 200
_ATTEMPTS_PER_EVENT = 20

_NOT_SENDING = """
SELECT count(*) FROM unnest($2::uuid[]) AS e(event_id)
WHERE NOT EXISTS (SELECT 1 FROM delivery_jobs j
                  WHERE j.subscription_id = $1 AND j.event_id = e.event_id AND j.state = 'sending')
"""


async def _preview_events(
    pool: asyncpg.Pool,
    subscription_id: uuid.UUID,
    *,
    event_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """How many of the events `redelivery` would pick it would reschedule (a job being sent is left alone)."""
    subscription = await subscriptions.get_subscription(pool, subscription_id)  # 404 if absent
    if event_id is not None:
        if await pool.fetchval("SELECT 1 FROM delivery_events WHERE event_id = $1", event_id) is None:
            raise SubscriptionNotFoundError(f"no stored event {event_id}")
        ids = [event_id]
    else:
        wanted = EventFilter.parse(subscription.event_types, subscription.sources, subscription.domain_suffixes)
        rows = await pool.fetch(
            "SELECT event_id, event_type, source, subject FROM delivery_events"
            " WHERE event_time >= $1 AND event_time < $2",
            since,
            until,
        )
        ids = [r["event_id"] for r in rows if wanted.matches(r["event_type"], r["source"], r["subject"])]
    count: int = await pool.fetchval(_NOT_SENDING, subscription_id, ids)
    return count


class ErrorBody(BaseModel):
    """A refused request."""

    error: str
    field: str | None = None
    message: str


def create_admin_app(
    pool: asyncpg.Pool,
    guard: AddressGuard,
    token: SecretStr | None,
    ready: ReadinessCheck,
    sealer: RawSealer = NO_SEALING,
) -> FastAPI:
    """The API over the lib's command and query functions; probes and metrics mounted beside it."""
    app = FastAPI(
        title="regpipe delivery admin API",
        version="1",
        description="Subscriptions to canonical registrar events, delivered as signed Standard Webhooks.",
    )
    router = APIRouter(
        prefix="/v1", dependencies=[Depends(BearerAuth([token.get_secret_value()] if token is not None else []))]
    )
    errors: dict[int | str, dict[str, object]] = {
        401: {"description": "missing or wrong bearer token"},
        404: {"model": ErrorBody},
        422: {"description": "invalid input (URL, filter syntax, body)"},
    }

    @app.exception_handler(InvalidSubscriptionError)
    async def _invalid(_: Request, exc: InvalidSubscriptionError) -> JSONResponse:
        body = ErrorBody(error="invalid_subscription", field=exc.field, message=exc.message)
        return JSONResponse(body.model_dump(), status_code=422)

    @app.exception_handler(SubscriptionNotFoundError)
    async def _missing(_: Request, exc: SubscriptionNotFoundError) -> JSONResponse:
        return JSONResponse(ErrorBody(error="not_found", message=str(exc)).model_dump(), status_code=404)

    @router.post("/subscriptions", status_code=201, responses=errors)
    async def create(spec: SubscriptionSpec) -> SubscriptionWithSecret:
        """Create a subscription; the answer holds its signing secret, shown only this once."""
        created = await subscriptions.create_subscription(pool, guard, spec, sealer)
        return SubscriptionWithSecret(subscription=created.subscription, secret=created.secret.get_secret_value())

    @router.get("/subscriptions", responses=errors)
    async def list_all() -> list[Subscription]:
        """Every subscription, with its endpoint's health."""
        return await subscriptions.list_subscriptions(pool)

    @router.get("/subscriptions/{subscription_id}", responses=errors)
    async def get(subscription_id: uuid.UUID) -> Subscription:
        """One subscription."""
        return await subscriptions.get_subscription(pool, subscription_id)

    @router.post("/subscriptions/{subscription_id}/rotate-secret", responses=errors)
    async def rotate(subscription_id: uuid.UUID, request: RotateRequest | None = None) -> SecretRotation:
        """A new secret; the current one keeps signing for `overlap_s` (both sign meanwhile)."""
        overlap = (request or RotateRequest()).overlap_s
        rotated = await subscriptions.rotate_secret(pool, subscription_id, overlap, sealer)
        return SecretRotation(
            subscription_id=rotated.subscription_id,
            secret=rotated.secret.get_secret_value(),
            previous_valid_until=rotated.previous_valid_until,
        )

    @router.post("/subscriptions/{subscription_id}/enable", responses=errors)
    async def enable(subscription_id: uuid.UUID) -> Subscription:
        """Enable (its waiting jobs resume; the failure streak starts over)."""
        return await subscriptions.set_enabled(pool, subscription_id, True)

    @router.post("/subscriptions/{subscription_id}/disable", responses=errors)
    async def disable(subscription_id: uuid.UUID) -> Subscription:
        """Disable (its jobs wait until it is enabled again)."""
        return await subscriptions.set_enabled(pool, subscription_id, False)

    @router.get("/subscriptions/{subscription_id}/attempts", responses=errors)
    async def endpoint_attempts(
        subscription_id: uuid.UUID, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> list[AttemptRecord]:
        """The endpoint's latest attempts, newest first."""
        return await history.list_attempts(pool, subscription_id=subscription_id, limit=limit)

    @router.get("/events/{event_id}/attempts", responses=errors)
    async def event_attempts(
        event_id: uuid.UUID, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> list[AttemptRecord]:
        """Every attempt to deliver one event, to any endpoint, newest first."""
        return await history.list_attempts(pool, event_id=event_id, limit=limit)

    @router.get("/dlq", responses=errors)
    async def dead(
        subscription_id: uuid.UUID | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> list[DeadJob]:
        """Deliveries that exhausted their schedule (also published to registrar.delivery.dlq.v1)."""
        return await history.list_dead(pool, subscription_id=subscription_id, limit=limit)

    @router.get("/operator-events", responses=errors)
    async def operator_events(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[OperatorEvent]:
        """Endpoints disabled automatically (410, or failing too long), newest first."""
        return await history.list_operator_events(pool, limit=limit)

    @router.post("/subscriptions/{subscription_id}/redeliver/{event_id}", responses=errors)
    async def redeliver_one(subscription_id: uuid.UUID, event_id: uuid.UUID) -> RedeliveryReport:
        """Send one event to the endpoint again (same `webhook-id`)."""
        return await redelivery.redeliver_event(pool, subscription_id, event_id)

    @router.post("/subscriptions/{subscription_id}/redeliver", responses=errors)
    async def redeliver_range(subscription_id: uuid.UUID, window: RangeRedelivery) -> RedeliveryReport:
        """Send every stored event of a time range that matches the endpoint's filters again."""
        return await redelivery.redeliver_range(pool, subscription_id, window.since, window.until)

    @router.post("/redeliver-failed", responses=errors)
    async def redeliver_failed(request: FailedRedelivery) -> RedeliveryReport:
        """Give every delivery that died since a time a fresh schedule."""
        return await redelivery.redeliver_failed(pool, request.since, request.subscription_id)

    @router.get("/events/{event_id}", responses=errors)
    async def stored_event(event_id: uuid.UUID) -> StoredEvent:
        """A stored canonical event (one that matched a subscription), as its webhooks send it."""
        row = await pool.fetchrow(
            "SELECT event_id, event_type, source, subject, event_time, received_at, body FROM delivery_events"
            " WHERE event_id = $1",
            event_id,
        )
        if row is None:
            raise SubscriptionNotFoundError(f"no stored event {event_id}")
        return StoredEvent(**{**dict(row), "body": orjson.loads(row["body"])})

    @router.get("/endpoint-success", responses=errors)
    async def endpoint_success(window: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[EndpointSuccess]:
        """Per endpoint, how many of its latest `window` attempts delivered (one query for a whole page)."""
        rows = await pool.fetch(_SUCCESS, window)
        return [EndpointSuccess.model_validate(dict(row)) for row in rows]

    @router.get("/event-deliveries", responses=errors)
    async def event_deliveries(
        event_id: Annotated[list[uuid.UUID], Query(max_length=_MAX_EVENTS_LOOKUP)],
    ) -> list[EventDeliveries]:
        """For a page of events (e.g. a domain's timeline) at once: raw position and latest attempts of each."""
        stored = await pool.fetch("SELECT event_id, body FROM delivery_events WHERE event_id = ANY($1)", event_id)
        lineage = {row["event_id"]: orjson.loads(row["body"]).get("lineage") for row in stored}
        rows = await pool.fetch(
            "SELECT * FROM (SELECT a.*, row_number() OVER (PARTITION BY event_id ORDER BY attempted_at DESC, id DESC)"
            " AS n FROM delivery_attempts a WHERE event_id = ANY($1)) AS latest WHERE n <= $2"
            " ORDER BY attempted_at DESC, id DESC",
            event_id,
            _ATTEMPTS_PER_EVENT,
        )
        attempts: dict[uuid.UUID, list[AttemptRecord]] = {}
        for row in rows:
            fields = dict(row)
            fields.pop("n")
            attempts.setdefault(row["event_id"], []).append(AttemptRecord.model_validate(fields))
        return [
            EventDeliveries(
                event_id=eid, stored=eid in lineage, lineage=lineage.get(eid), attempts=attempts.get(eid, [])
            )
            for eid in dict.fromkeys(event_id)
        ]

    @router.get("/subscriptions/{subscription_id}/redeliver-preview/{event_id}", responses=errors)
    async def preview_one(subscription_id: uuid.UUID, event_id: uuid.UUID) -> RedeliveryPreview:
        """Dry run of `POST .../redeliver/{event_id}`: how many deliveries it would schedule."""
        return RedeliveryPreview(would_schedule=await _preview_events(pool, subscription_id, event_id=event_id))

    @router.get("/subscriptions/{subscription_id}/redeliver-preview", responses=errors)
    async def preview_range(
        subscription_id: uuid.UUID, since: Annotated[AwareDatetime, Query()], until: Annotated[AwareDatetime, Query()]
    ) -> RedeliveryPreview:
        """Dry run of `POST .../redeliver` for the range since <= time < until."""
        if until <= since:
            raise HTTPException(422, "until must be after since")
        window = RangeRedelivery(since=since, until=until)
        count = await _preview_events(pool, subscription_id, since=window.since, until=window.until)
        return RedeliveryPreview(would_schedule=count)

    @router.get("/redeliver-failed-preview", responses=errors)
    async def preview_failed(
        since: Annotated[AwareDatetime, Query()], subscription_id: uuid.UUID | None = None
    ) -> RedeliveryPreview:
        """Dry run of `POST /redeliver-failed`: the dead jobs that died since `since`."""
        count: int = await pool.fetchval(
            "SELECT count(*) FROM delivery_jobs WHERE state = 'dead' AND updated_at >= $1"
            " AND ($2::uuid IS NULL OR subscription_id = $2)",
            since,
            subscription_id,
        )
        return RedeliveryPreview(would_schedule=count)

    app.include_router(router)
    app.mount("/", health_app("delivery", ready))
    return app
