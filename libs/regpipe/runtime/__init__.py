"""The runtime every worker service shares: signal handling, graceful shutdown, health endpoints."""

from regpipe.runtime.health import ReadinessCheck, health_app
from regpipe.runtime.http import EmbeddedServer, serve_app
from regpipe.runtime.service import run_worker
from regpipe.runtime.settings import KafkaSettings, LeaseSettings, PostgresSettings, SealSettings, ServiceSettings

__all__ = [
    "EmbeddedServer",
    "KafkaSettings",
    "LeaseSettings",
    "PostgresSettings",
    "ReadinessCheck",
    "SealSettings",
    "ServiceSettings",
    "health_app",
    "run_worker",
    "serve_app",
]
