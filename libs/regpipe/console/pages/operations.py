"""Order batches, orders, tasks and transfers: listings filtered by provider, status and time; the batch page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from regpipe.aggregate.read.listings import ListingKind, ListingQuery
from regpipe.aggregate.read.views import BatchView, OrderView
from regpipe.console.context import context_of, render, require_role
from regpipe.console.errors import SourceRefusedError
from regpipe.console.pages.domains import Cursor

__all__ = ["batch_progress", "parse_time", "router"]

router = APIRouter()

_TITLES = {
    ListingKind.ORDER_BATCHES: "Order batches",
    ListingKind.ORDERS: "Orders",
    ListingKind.TASKS: "Tasks",
    ListingKind.TRANSFERS: "Transfers",
}
_Filter = Annotated[str, Query(max_length=64)]
_Time = Annotated[str, Query(max_length=40)]

#: The stages of a Most batch order and the statuses that mean each is done.
STAGES = (("registration", {"REGISTERED", "COMPLETED"}), ("nameservers", {"COMPLETED"}))


def parse_time(text: str) -> datetime | None:
    """A time from a form (`datetime-local` has no zone: UTC); empty is None."""
    if not text.strip():
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise SourceRefusedError(f"not a time: {text[:40]!r} (e.g. 2026-12-01T08:00)") from exc
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def batch_progress(order: OrderView) -> list[str]:
    """Per stage: done, failed or waiting."""
    status = (order.status or "").upper()
    if status == "FAILED":
        return ["failed" if i == 0 else "skipped" for i, _ in enumerate(STAGES)]
    return ["done" if status in done else "waiting" for _, done in STAGES]


def _listing_route(kind: ListingKind) -> None:
    async def listing(
        request: Request,
        provider: _Filter = "",
        status: _Filter = "",
        since: _Time = "",
        until: _Time = "",
        cursor: Cursor = None,
    ) -> Response:
        require_role(request)
        query = ListingQuery(
            provider=provider or None, status=status or None, since=parse_time(since), until=parse_time(until)
        )
        page = await context_of(request).sources.read_model.listing(kind, query, cursor=cursor)
        filters = {"provider": provider, "status": status, "since": since, "until": until}
        return render(
            request, "listing.html", {"kind": kind.value, "title": _TITLES[kind], "page": page, "filters": filters}
        )

    router.add_api_route(f"/{kind.value}", listing, methods=["GET"])


for _kind in ListingKind:
    _listing_route(_kind)


@router.get("/order-batches/{batch_id}")
async def batch(request: Request, batch_id: str) -> Response:
    require_role(request)
    view: BatchView = await context_of(request).sources.read_model.batch(batch_id)
    rows = [(order, batch_progress(order)) for order in view.orders]
    return render(request, "batch.html", {"batch": view, "rows": rows, "stages": [name for name, _ in STAGES]})
