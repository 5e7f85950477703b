"""The admin HTTP API (FastAPI, OpenAPI at `/docs`): subscriptions, attempts, the dead-letter list, redelivery.

Every `/v1` route needs `Authorization: Bearer <token>` (401 otherwise; with no token configured the API is
locked). Bad input is a 422 with a JSON body. A secret appears in exactly two answers, creation and rotation,
and never in a log. `/healthz`, `/readyz` and `/metrics` are open, for probes and scrapers.
"""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr

from regpipe.contract.sealing import RawSealer
from regpipe.delivery import history, redelivery, subscriptions
from regpipe.delivery.address_guard import AddressGuard
from regpipe.delivery.errors import InvalidSubscriptionError, SubscriptionNotFoundError
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


class ErrorBody(BaseModel):
    """A refused request."""

    error: str
    field: str | None = None
    message: str


_SCHEME = HTTPBearer(auto_error=False, description="The admin token (DELIVERY_ADMIN_TOKEN)")


class _BearerCheck:
    """Refuses a request unless it presents the configured token (constant-time comparison)."""

    def __init__(self, token: SecretStr | None) -> None:
        self._expected = token.get_secret_value().encode() if token is not None else b""

    async def __call__(self, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_SCHEME)]) -> None:
        presented = credentials.credentials.encode() if credentials is not None else b""
        if not self._expected or not hmac.compare_digest(self._expected, presented):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "a valid bearer token is required", {"WWW-Authenticate": "Bearer"}
            )


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
    router = APIRouter(prefix="/v1", dependencies=[Depends(_BearerCheck(token))])
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

    app.include_router(router)
    app.mount("/", health_app("delivery", ready))
    return app
