"""The services of the pipeline as real subprocesses on the real broker, for end-to-end tests."""

from __future__ import annotations

import base64
import socket
from pathlib import Path

import httpx

from tests.conditions import eventually_async
from tests.service_process import ServiceUnderTest

#: A Standard Webhooks secret for Most in these tests.
MOST_SECRET = "whsec_" + base64.b64encode(b"e2e-most-secret-0123456789abcdef").decode()
COLDMAIL_TOKEN = "e2e-coldmail-token-0123456789"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Pipeline:
    """Receiver, normalizer and deduplicator, each with consumer groups of its own (so tests do not share offsets)."""

    def __init__(self, bootstrap: str, log_dir: Path, tag: str) -> None:
        self.port = free_port()
        common = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap}
        self.receiver = ServiceUnderTest(
            "webhook_receiver",
            {
                **common,
                "WEBHOOK_HOST": "127.0.0.1",
                "WEBHOOK_PORT": str(self.port),
                "MOST_AUTH_SCHEME": "standard_webhooks",
                "MOST_WEBHOOK_SECRETS": MOST_SECRET,
                "COLDMAIL_AUTH_SCHEME": "header_token",
                "COLDMAIL_WEBHOOK_SECRETS": COLDMAIL_TOKEN,
                "COLDMAIL_TOKEN_HEADER": "x-webhook-token",
            },
            log_dir,
        )
        self.normalizer = ServiceUnderTest(
            "normalizer", {**common, "NORMALIZER_GROUP_ID": f"normalizer-{tag}"}, log_dir
        )
        self.deduplicator = ServiceUnderTest(
            "deduplicator",
            {**common, "DEDUP_GROUP_ID": f"dedup-{tag}", "DEDUP_TRANSACTIONAL_ID_PREFIX": f"dedup-{tag}"},
            log_dir,
        )

    @property
    def url(self) -> str:
        """Base URL of the receiver."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start all three and wait until the receiver is ready."""
        for service in (self.receiver, self.normalizer, self.deduplicator):
            service.start()
        async with httpx.AsyncClient(timeout=5) as client:

            async def ready() -> bool:
                try:
                    return (await client.get(f"{self.url}/readyz")).status_code == 200
                except httpx.TransportError:
                    return False  # not listening yet

            try:
                await eventually_async(ready, "the receiver is ready", timeout_s=120)
            except AssertionError as never:
                raise AssertionError(f"{never}:\n{self.receiver.log[-3000:]}") from None

    def stop(self) -> None:
        """SIGTERM all three."""
        for service in (self.receiver, self.normalizer, self.deduplicator):
            service.stop()
