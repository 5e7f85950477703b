"""Health, readiness and metrics endpoints for services that are not HTTP servers themselves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from regpipe.observability.exposition import latest_metrics

__all__ = ["Readiness", "ReadinessCheck", "health_app"]

#: Returns None when ready, or a short reason why not.
ReadinessCheck = Callable[[], str | None]


class Readiness(Protocol):
    """A part of a service that can say why it is not ready; `not_ready_reason` is its `ReadinessCheck`."""

    def not_ready_reason(self) -> str | None:
        """None when ready, or a short reason why not."""
        ...


def health_app(service: str, ready: ReadinessCheck) -> Starlette:
    """`/healthz` (the process runs), `/readyz` (its dependencies are reachable) and `/metrics`."""

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok", "service": service})

    async def readyz(_: Request) -> Response:
        reason = ready()
        if reason is None:
            return JSONResponse({"status": "ready", "service": service})
        return JSONResponse({"status": "not ready", "service": service, "reason": reason}, status_code=503)

    async def metrics(_: Request) -> Response:
        # Summed over the worker processes when the service runs several (see regpipe.observability.exposition).
        return Response(latest_metrics(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)],
    )
