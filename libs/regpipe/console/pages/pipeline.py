"""The pipeline page: per stage records in and out per second, lag, quarantine (counts and the latest records with
the command that redrives each), leaders, deliveries."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from regpipe.console.context import context_of, render, require_role
from regpipe.console.errors import SourceUnavailableError
from regpipe.console.quarantine import QuarantinedRecord

__all__ = ["router"]

router = APIRouter()

_LATEST_PER_PARTITION = 10


@router.get("/pipeline")
async def pipeline(request: Request) -> Response:
    require_role(request)
    sources = context_of(request).sources
    view = await sources.pipeline.view()
    records: list[QuarantinedRecord] = []
    problem = None
    try:
        records = await sources.quarantine.latest(_LATEST_PER_PARTITION)
    except SourceUnavailableError as exc:
        problem = str(exc)  # the rest of the page is still worth showing
    return render(request, "pipeline.html", {"view": view, "quarantined": records, "quarantine_problem": problem})
