"""Wires the console: its data sources (read API, admin API, quarantine topic, metrics) and the web app."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from regpipe.console import ConsoleConfig, create_console_app
from regpipe.console.delivery_admin import DeliveryAdminClient
from regpipe.console.http_source import HttpSource
from regpipe.console.quarantine import QuarantineReader
from regpipe.console.read_model import ReadModelClient
from regpipe.console.sources import PipelineSource, Sources
from regpipe.monitor import MonitorTarget
from regpipe.runtime import run_worker, serve_app
from regpipe.runtime.health import health_app
from regpipe.services.console.settings import ConsoleSettings

__all__ = ["SERVICE", "build_app", "run"]

SERVICE = "console"


def build_app(settings: ConsoleSettings, metrics_client: httpx.AsyncClient) -> tuple[FastAPI, list[HttpSource]]:
    """The console app with its probes, and the HTTP sources to close when it stops."""
    read_api = HttpSource(
        "the read API", settings.console_read_api_url, settings.console_read_api_token.get_secret_value()
    )
    admin_api = HttpSource(
        "the delivery admin API", settings.console_admin_api_url, settings.console_admin_api_token.get_secret_value()
    )
    target = MonitorTarget(
        dict(settings.console_metrics_urls), settings.kafka_connection(), tuple(settings.console_lag_groups)
    )
    sources = Sources(
        pipeline=PipelineSource(target, metrics_client),
        read_model=ReadModelClient(read_api),
        delivery=DeliveryAdminClient(admin_api),
        quarantine=QuarantineReader(settings.kafka_connection(), settings.console_quarantine_input_topic),
    )
    config = ConsoleConfig(
        session_secret=settings.console_session_secret.get_secret_value(),
        viewer_tokens=settings.viewer_tokens(),
        operator_tokens=settings.operator_tokens(),
        secure_cookies=settings.console_secure_cookies,
    )
    app = create_console_app(config, sources)
    # Probes and metrics need no sign-in (kubelet and Prometheus read them).
    for route in health_app(SERVICE, lambda: None).routes:
        app.router.routes.insert(0, route)
    return app, [read_api, admin_api]


async def run(settings: ConsoleSettings) -> None:
    """Serve the console until SIGTERM/SIGINT."""

    async def work(stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=5) as metrics_client:
            app, closing = build_app(settings, metrics_client)
            try:
                async with serve_app(app, settings.health_host, settings.health_port):
                    await stop.wait()
            finally:
                for source in closing:
                    await source.aclose()

    await run_worker(SERVICE, work, ready=lambda: None, health_port=0)
