"""Entry point: `regpipe-webhook-receiver` or `python -m regpipe.services.webhook_receiver`."""

from __future__ import annotations

import uvicorn

from regpipe.observability.logging import configure_logging
from regpipe.services.webhook_receiver.app import SERVICE
from regpipe.services.webhook_receiver.settings import WebhookReceiverSettings


def main() -> None:
    """Serve with uvicorn (uvloop, httptools) until SIGTERM, which drains in-flight requests first."""
    settings = WebhookReceiverSettings()
    configure_logging(SERVICE, settings.log_level)
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
