"""The receiver's ASGI app: the lean webhook endpoint for `/webhooks/...`, and a FastAPI app for the rest
(`/openapi.json`, `/docs`, and `/healthz`, `/readyz`, `/metrics` from `regpipe.runtime`); the lifespan opens and
closes the Kafka producer link."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from regpipe.ingest.publisher import RawPublisher
from regpipe.runtime.health import health_app
from regpipe.webhooks.endpoint import PATH_PREFIX, WebhookEndpoint
from regpipe.webhooks.limits import BodyLimits
from regpipe.webhooks.openapi import ReceiverDocs
from regpipe.webhooks.producer_link import ProducerLink
from regpipe.webhooks.route import ProviderRoute

__all__ = ["WebhookReceiverApp", "create_receiver_app"]


class WebhookReceiverApp:
    """Dispatches `/webhooks/...` straight to the endpoint (skipping the router and middleware stack, which
    costs about a third of the throughput), everything else (and the lifespan) to the FastAPI app."""

    def __init__(self, endpoint: WebhookEndpoint, rest: ASGIApp) -> None:
        self.endpoint = endpoint
        self.rest = rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PATH_PREFIX):
            await self.endpoint(scope, receive, send)
        else:
            await self.rest(scope, receive, send)


def create_receiver_app(
    *,
    service: str,
    routes: Mapping[str, ProviderRoute],
    publisher: RawPublisher,
    link: ProducerLink,
    limits: BodyLimits,
    retry_after_s: int,
) -> WebhookReceiverApp:
    """Wire the webhook endpoint, the documentation and health routes, and the producer link's life cycle."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await link.open()
        try:
            yield
        finally:
            await link.close()

    docs = ReceiverDocs(
        routes,
        title="regpipe webhook receiver",
        version="1",
        description="Receives provider webhooks and publishes them, byte for byte, to registrar.raw.v1.",
        lifespan=lifespan,
    )
    docs.mount("/", health_app(service, link.readiness))
    endpoint = WebhookEndpoint(routes, publisher, link, limits=limits, retry_after_s=retry_after_s)
    return WebhookReceiverApp(endpoint, docs)
