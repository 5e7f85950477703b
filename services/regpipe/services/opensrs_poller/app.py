"""Wires the OpenSRS poller: one API client, the account's lease and the poll loop, under the ingest runtime."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from regpipe.ingest.publisher import RawPublisher
from regpipe.providers.opensrs.client import OpenSRSClient
from regpipe.providers.opensrs.poller import OpenSRSPoller, PollerConfig, lease_name
from regpipe.runtime import run_ingest_worker
from regpipe.services.opensrs_poller.settings import OpenSRSPollerSettings

__all__ = ["SERVICE", "run"]

SERVICE = "opensrs-poller"


async def run(settings: OpenSRSPollerSettings) -> None:
    """Run the poller until SIGTERM/SIGINT."""
    config = PollerConfig(
        limit=settings.opensrs_poll_limit,
        interval_s=settings.opensrs_poll_interval_s,
        backoff_initial_s=settings.opensrs_backoff_initial_s,
        backoff_max_s=settings.opensrs_backoff_max_s,
        error_pause_s=settings.opensrs_error_pause_s,
        shutdown_grace_s=settings.shutdown_grace_s,
        lease_check_interval_s=settings.lease_check_interval_s,
    )

    @asynccontextmanager
    async def poller(publisher: RawPublisher, stop: asyncio.Event) -> AsyncIterator[OpenSRSPoller]:
        async with OpenSRSClient(
            settings.opensrs_url,
            username=settings.opensrs_username,
            api_key=settings.opensrs_api_key.get_secret_value(),
            timeout_s=settings.opensrs_timeout_s,
        ) as client:
            lease = settings.lease(lease_name(settings.opensrs_username), service=SERVICE, stop=stop)
            yield OpenSRSPoller(client, publisher, lease, config)

    await run_ingest_worker(SERVICE, settings, poller, client_id=f"{SERVICE}-{settings.opensrs_username}")
