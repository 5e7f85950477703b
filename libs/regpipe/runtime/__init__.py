"""The runtime every worker service shares: signal handling, graceful shutdown, health endpoints."""

from regpipe.runtime.health import Readiness, ReadinessCheck, health_app
from regpipe.runtime.http import EmbeddedServer, serve_app
from regpipe.runtime.ingest_worker import IngestWorker, run_ingest_worker
from regpipe.runtime.service import run_worker
from regpipe.runtime.settings import (
    KafkaSettings,
    LeaseSettings,
    LoggingSettings,
    PostgresSettings,
    SealSettings,
    ServiceSettings,
)

__all__ = [
    "EmbeddedServer",
    "IngestWorker",
    "KafkaSettings",
    "LeaseSettings",
    "LoggingSettings",
    "PostgresSettings",
    "Readiness",
    "ReadinessCheck",
    "SealSettings",
    "ServiceSettings",
    "health_app",
    "run_ingest_worker",
    "run_worker",
    "serve_app",
]
