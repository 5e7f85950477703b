"""Serving the metrics of `regpipe.observability.metrics`, including those of a service run as several processes.

The webhook receiver runs several uvicorn worker processes behind one port; each would otherwise export only its
own counts. prometheus_client's multiprocess mode fixes that: when `PROMETHEUS_MULTIPROC_DIR` names a directory
before prometheus_client is imported, every process keeps its values in memory-mapped files there, and an
exposition built with `MultiProcessCollector` sums them. The variable is prometheus_client's own protocol (read at
its import), which is why this module consults the environment rather than a settings model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["MULTIPROCESS_DIR_ENV", "latest_metrics", "metrics_registry", "prepare_multiprocess_dir", "serve_metrics"]

MULTIPROCESS_DIR_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"


def metrics_registry() -> CollectorRegistry:
    """The registry to expose: the sum over every process of the multiprocess directory when one is set (the
    process-level collectors such as `process_cpu_seconds_total` are then left out: they would be one process's),
    else this process's own registry."""
    directory = os.environ.get(MULTIPROCESS_DIR_ENV)
    if not directory:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]  # untyped in prometheus_client
    return registry


def latest_metrics() -> bytes:
    """The Prometheus text exposition of `metrics_registry()`."""
    return generate_latest(metrics_registry())


def prepare_multiprocess_dir(directory: Path) -> None:
    """Create `directory` and remove the value files of earlier runs (their counts would be added to this run's).

    Call it in the parent before the worker processes start, never while they run.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def serve_metrics(host: str, port: int) -> WSGIServer:
    """Serve `/metrics` of `metrics_registry()` on `host:port` from a daemon thread of this process."""
    server, _thread = start_http_server(port, addr=host, registry=metrics_registry())
    return server
