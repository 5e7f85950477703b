"""Wires the receiver: settings -> producer, sealer, publisher, producer link, provider routes -> ASGI app."""

from __future__ import annotations

import gc

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from regpipe.ingest.publisher import RawPublisher
from regpipe.kafka.producer import create_producer
from regpipe.observability.logging import configure_logging, get_logger
from regpipe.observability.tracing import configure_tracing
from regpipe.services.webhook_receiver.settings import WebhookReceiverSettings
from regpipe.webhooks.app import WebhookReceiverApp, create_receiver_app
from regpipe.webhooks.endpoint import PATH_PREFIX
from regpipe.webhooks.errors import WebhookConfigError
from regpipe.webhooks.limits import BodyLimits
from regpipe.webhooks.producer_link import ProducerLink
from regpipe.webhooks.registry import WEBHOOK_ADAPTERS
from regpipe.webhooks.route import ProviderRoute

__all__ = ["SERVICE", "create_app", "create_worker_app"]

SERVICE = "webhook-receiver"

_log = get_logger(__name__)


def _routes(settings: WebhookReceiverSettings) -> dict[str, ProviderRoute]:
    configured = settings.providers()
    routes: dict[str, ProviderRoute] = {}
    for name, adapter in WEBHOOK_ADAPTERS.items():
        provider = configured.get(name)
        if provider is None:
            raise WebhookConfigError(f"the receiver settings have no entry for the registered provider {name!r}")
        if not provider.secrets:
            _log.warning("webhook provider disabled: no secrets configured", provider=name)
            continue
        routes[name] = ProviderRoute.configure(
            name,
            adapter,
            secrets=provider.secrets,
            scheme=provider.scheme,
            token_header=provider.token_header,
            account=provider.account,
        )
        _log.info("webhook provider enabled", provider=name, scheme=routes[name].authenticator.__class__.__name__)
    return routes


def create_app(settings: WebhookReceiverSettings | None = None) -> WebhookReceiverApp:
    """The receiver app; without `settings` they are read from the environment (each uvicorn worker does so)."""
    settings = settings or WebhookReceiverSettings()
    configure_logging(SERVICE, settings.log_level)
    configure_tracing(SERVICE)  # off unless the standard OTEL_* variables ask for an exporter
    routes = _routes(settings)  # first: a configuration error must stop start-up before anything connects
    producer = create_producer(settings.kafka_connection(), client_id=SERVICE, linger_ms=settings.kafka_linger_ms)
    link = ProducerLink(producer, probe_interval_s=settings.kafka_probe_interval_s)
    return create_receiver_app(
        service=SERVICE,
        routes=routes,
        publisher=RawPublisher(producer, sealer=settings.sealer(), timeout_s=settings.kafka_publish_timeout_s),
        link=link,
        limits=BodyLimits(
            max_bytes=settings.webhook_max_body_bytes,
            max_concurrent=settings.webhook_max_concurrent_bodies,
            read_timeout_s=settings.webhook_body_read_timeout_s,
        ),
        retry_after_s=settings.webhook_retry_after_s,
    )


class _PublicPathsOnly:
    """What the public port answers when metrics have a port of their own: webhooks and the probes, nothing else
    (no /metrics, no API docs for whoever finds the address)."""

    _PROBES = frozenset({"/healthz", "/readyz"})

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._not_found = PlainTextResponse("Not Found", status_code=404)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(PATH_PREFIX) or path in self._PROBES:
            await self._app(scope, receive, send)
        else:
            await self._not_found(scope, receive, send)


def create_worker_app() -> ASGIApp:
    """uvicorn's factory in each worker process: the app from the environment, then the start-up heap frozen.

    A request allocates many short-lived objects that reference counting frees at once; with the heap of
    modules and schemas frozen and fewer young-generation collections, the cyclic GC stops pausing requests for
    30-50 ms and costs ~5% less CPU (measured under benchmarks/webhook_receiver load).
    """
    settings = WebhookReceiverSettings()
    app = create_app(settings)
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    return app if settings.metrics_port == 0 else _PublicPathsOnly(app)
