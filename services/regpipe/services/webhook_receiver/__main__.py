"""Entry point: `regpipe-webhook-receiver` or `python -m regpipe.services.webhook_receiver`."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import uvicorn

from regpipe.observability.exposition import MULTIPROCESS_DIR_ENV, prepare_multiprocess_dir, serve_metrics
from regpipe.observability.logging import configure_logging, get_logger
from regpipe.services.webhook_receiver.app import SERVICE
from regpipe.services.webhook_receiver.settings import WebhookReceiverSettings


def _share_metrics_between_workers(workers: int) -> Path | None:
    """Make every worker keep its metrics in a directory this process sums up (prometheus_client multiprocess mode).

    uvicorn starts workers as fresh interpreters, which inherit the variable and so import prometheus_client in
    multiprocess mode. A directory given by the deployment (an emptyDir) is used as is, else a private one is made
    and returned, for removal at exit.
    """
    given = os.environ.get(MULTIPROCESS_DIR_ENV)
    if not given and workers == 1:
        return None  # one process: its own registry is the whole truth
    directory = Path(given) if given else Path(tempfile.mkdtemp(prefix="regpipe-receiver-metrics-"))
    prepare_multiprocess_dir(directory)
    os.environ[MULTIPROCESS_DIR_ENV] = str(directory)
    return None if given else directory


def main() -> None:
    """Serve with uvicorn (uvloop, httptools) until SIGTERM, which drains in-flight requests first."""
    settings = WebhookReceiverSettings()
    configure_logging(SERVICE, settings.log_level)
    private_metrics_dir = _share_metrics_between_workers(settings.webhook_workers)
    try:
        _serve(settings)
    finally:
        if private_metrics_dir is not None:
            try:
                shutil.rmtree(private_metrics_dir)
            except OSError as exc:
                get_logger(__name__).warning(
                    "metrics directory left behind", path=str(private_metrics_dir), error=str(exc)
                )


def _serve(settings: WebhookReceiverSettings) -> None:
    """The metrics server (when it has a port of its own), then uvicorn until SIGTERM."""
    if settings.metrics_port:
        # From this (the supervising) process: one scrape sees every worker, and the public port serves no metrics.
        serve_metrics(settings.metrics_host, settings.metrics_port)
        get_logger(__name__).info("metrics served", host=settings.metrics_host, port=settings.metrics_port)
    uvicorn.run(
        # An import string and a factory, so that every worker process builds its own app and producer.
        "regpipe.services.webhook_receiver.app:create_worker_app",
        factory=True,
        host=settings.webhook_host,
        port=settings.webhook_port,
        workers=settings.webhook_workers,
        loop="uvloop",
        http="httptools",
        # No access log: a path-token URL carries the token. Logging stays as configure_logging set it.
        access_log=False,
        log_config=None,
        server_header=False,
        proxy_headers=False,  # providers connect directly; no proxy headers to trust, none to parse
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
