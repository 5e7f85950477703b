"""Domain search (name or prefix, either IDN form) and the domain page: states, expiry, timeline, deliveries."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from regpipe.aggregate.checkpoints import CHECKPOINT_DAYS
from regpipe.aggregate.read.views import DomainState
from regpipe.console.context import context_of, render, require_role
from regpipe.console.payload import pretty_json

__all__ = ["next_checkpoints", "router"]

router = APIRouter()

Cursor = Annotated[str | None, Query(max_length=512)]
_SHOWN_CHECKPOINTS = 3


def next_checkpoints(state: DomainState, now: datetime) -> list[tuple[int, datetime]]:
    """The next expiry checkpoints still ahead of `now`: (days before expiry, when)."""
    if state.expires_at is None:
        return []
    due = [(days, state.expires_at - timedelta(days=days)) for days in sorted(CHECKPOINT_DAYS, reverse=True)]
    return [(days, when) for days, when in due if when > now][:_SHOWN_CHECKPOINTS]


@router.get("/domains")
async def search(request: Request, q: Annotated[str, Query(max_length=253)] = "", cursor: Cursor = None) -> Response:
    require_role(request)
    page = None
    if q.strip():
        page = await context_of(request).sources.read_model.search_domains(q.strip(), cursor=cursor)
    return render(request, "domains.html", {"q": q, "page": page})


@router.get("/domains/{name}")
async def domain(request: Request, name: str, cursor: Cursor = None) -> Response:
    require_role(request)
    sources = context_of(request).sources
    view, timeline = await asyncio.gather(
        sources.read_model.domain(name), sources.read_model.timeline(name, cursor=cursor, limit=50)
    )
    deliveries = await sources.delivery.event_deliveries([item.id for item in timeline.items])
    now = datetime.now(UTC)
    return render(
        request,
        "domain.html",
        {
            "view": view,
            "states": [(state, next_checkpoints(state, now)) for state in view.states],
            "timeline": timeline,
            "deliveries": {d.event_id: d for d in deliveries},
            "pretty_json": pretty_json,
        },
    )
