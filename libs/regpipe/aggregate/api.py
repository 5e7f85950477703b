"""The read API (FastAPI, OpenAPI at `/openapi.json` and `/docs`) over `regpipe.aggregate.read`, plus `/healthz`,
`/readyz` and `/metrics`.

Every read route needs `Authorization: Bearer <token>` with one of the configured tokens (401 otherwise); unknown
ids are 404 and malformed parameters 422, both as JSON `{"detail": ...}`; PostgreSQL being down is 503.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import asyncpg
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse

from regpipe.aggregate.read import (
    MAX_PAGE,
    BadQueryError,
    NotFoundError,
    domain_events,
    get_batch,
    get_domain,
    get_order,
    get_task,
    get_transfer,
    list_domains,
    parse_duration,
    views,
)
from regpipe.aggregate.read.listings import (
    ListingItem,
    ListingKind,
    ListingQuery,
    domain_timeline,
    list_recent,
    search_domains,
)
from regpipe.aggregate.store import CONNECTION_ERRORS
from regpipe.runtime.health import ReadinessCheck, health_app
from regpipe.runtime.tokens import BearerAuth

__all__ = ["create_read_api"]

T = TypeVar("T")
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or unknown bearer token."},
    404: {"description": "Nothing known under that id."},
    422: {"description": "A malformed parameter (cursor, duration, domain name)."},
    503: {"description": "PostgreSQL is unavailable."},
}


def create_read_api(
    *,
    service: str,
    pool: Callable[[], asyncpg.Pool],
    tokens: Sequence[str],
    ready: ReadinessCheck,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FastAPI:
    """The read API; `pool()` returns the process's connection pool (opened by the service before serving)."""
    app = FastAPI(
        title="regpipe aggregator read API",
        description="Current state of domains, Most order batches and tasks, orders and transfers, and each "
        "domain's event timeline, folded from registrar.events.v1.",
        dependencies=[Depends(BearerAuth(tokens))],
        responses=_ERRORS,
    )

    @app.exception_handler(NotFoundError)
    async def _not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(BadQueryError)
    async def _bad_query(_: Request, exc: BadQueryError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    async def answer(query: Awaitable[T]) -> T:
        try:
            return await query
        except CONNECTION_ERRORS as exc:
            raise HTTPException(503, detail="the read model is unavailable") from exc

    limit_param = Query(100, ge=1, le=MAX_PAGE, description="Page size.")
    cursor_param = Query(None, description="`next_cursor` of the previous page.")

    @app.get("/domains/{name}", response_model=views.DomainView, tags=["domains"])
    async def domain(name: Annotated[str, Path(description="Domain name, Unicode or punycode.")]) -> views.DomainView:
        """Current state of a domain at every provider/account that reported it."""
        return await answer(get_domain(pool(), name))

    @app.get("/domains/{name}/events", response_model=views.Page[views.TimelineItem], tags=["domains"])
    async def timeline(
        name: str, cursor: str | None = cursor_param, limit: int = limit_param
    ) -> views.Page[views.TimelineItem]:
        """Every canonical event of the domain, oldest first by provider time."""
        return await answer(domain_events(pool(), name, cursor=cursor, limit=limit))

    @app.get("/domains", response_model=views.Page[views.DomainState], tags=["domains"])
    async def domains(
        status: str | None = Query(None, description="Only domains in this status."),
        expiring_within: str | None = Query(None, description="Only domains expiring within e.g. 7d, 12h."),
        provider: str | None = Query(None, description="Only domains at this provider."),
        cursor: str | None = cursor_param,
        limit: int = limit_param,
    ) -> views.Page[views.DomainState]:
        """Domain states by name, filtered."""
        within = parse_duration(expiring_within) if expiring_within else None
        return await answer(
            list_domains(
                pool(),
                now=clock(),
                status=status,
                provider=provider,
                expiring_within=within,
                cursor=cursor,
                limit=limit,
            )
        )

    @app.get("/order-batches/{batch_id}", response_model=views.BatchView, tags=["orders"])
    async def batch(batch_id: str) -> views.BatchView:
        """A Most order batch with every order's status and the stage times."""
        return await answer(get_batch(pool(), batch_id))

    @app.get("/orders/{order_id}", response_model=views.OrderView, tags=["orders"])
    async def order(order_id: str) -> views.OrderView:
        """An order (Most batch order, OpenSRS order, Cold Mail order)."""
        return await answer(get_order(pool(), order_id))

    @app.get("/tasks/{task_id}", response_model=views.TaskView, tags=["tasks"])
    async def task(task_id: str) -> views.TaskView:
        """A Most bulk task with its per-item results."""
        return await answer(get_task(pool(), task_id))

    @app.get("/transfers/{transfer_id}", response_model=views.TransferView, tags=["transfers"])
    async def transfer(transfer_id: str) -> views.TransferView:
        """A transfer's status and history."""
        return await answer(get_transfer(pool(), transfer_id))

    @app.get("/domain-search", response_model=views.Page[views.DomainState], tags=["domains"])
    async def domain_search(
        prefix: str = Query(..., min_length=1, max_length=253, description="Name prefix, Unicode or punycode."),
        cursor: str | None = cursor_param,
        limit: int = limit_param,
    ) -> views.Page[views.DomainState]:
        """Domain states whose name starts with `prefix`, by name."""
        return await answer(search_domains(pool(), prefix, cursor=cursor, limit=limit))

    @app.get("/domains/{name}/timeline", response_model=views.Page[views.TimelineItem], tags=["domains"])
    async def timeline_newest_first(
        name: str, cursor: str | None = cursor_param, limit: int = limit_param
    ) -> views.Page[views.TimelineItem]:
        """Every canonical event of the domain, newest first by provider time."""
        return await answer(domain_timeline(pool(), name, cursor=cursor, limit=limit))

    def listing_route(kind: ListingKind, summary: str) -> None:
        async def listing(
            provider: str | None = Query(None, description="Only this provider."),
            status: str | None = Query(None, description="Only this status."),
            since: Annotated[datetime | None, Query(description="Changed at or after this time.")] = None,
            until: Annotated[datetime | None, Query(description="Changed before this time.")] = None,
            cursor: str | None = cursor_param,
            limit: int = limit_param,
        ) -> views.Page[ListingItem]:
            query = ListingQuery(provider=provider, status=status, since=since, until=until)
            return await answer(list_recent(pool(), kind, query, cursor=cursor, limit=limit))

        app.add_api_route(
            f"/{kind.value}",
            listing,
            methods=["GET"],
            response_model=views.Page[ListingItem],
            tags=[kind.value],
            summary=summary,
            description="Newest first (last change), cursor-paged; filters combine.",
        )

    listing_route(ListingKind.ORDER_BATCHES, "Most order batches")
    listing_route(ListingKind.ORDERS, "Orders of every kind (Most batch orders, tracked orders, Cold Mail orders)")
    listing_route(ListingKind.TASKS, "Most bulk tasks")
    listing_route(ListingKind.TRANSFERS, "Transfers")

    # Probes and metrics need no token (kubelet and Prometheus scrape them): plain routes, outside the API's
    # dependencies and its OpenAPI document.
    for route in health_app(service, ready).routes:
        app.router.routes.insert(0, route)
    return app
