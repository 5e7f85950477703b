"""The pipeline page: per stage records in and out per second, lag, quarantine, leaders, deliveries."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from regpipe.console.context import context_of, render, require_role

__all__ = ["router"]

router = APIRouter()


@router.get("/pipeline")
async def pipeline(request: Request) -> Response:
    require_role(request)
    view = await context_of(request).sources.pipeline.view()
    return render(request, "pipeline.html", {"view": view})
