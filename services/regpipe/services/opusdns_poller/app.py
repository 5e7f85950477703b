"""Wires the OpusDNS poller: one API client, the account's lease and the poll loop, under the ingest runtime."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from regpipe.ingest.publisher import RawPublisher
from regpipe.providers.opusdns.client import OpusDnsClient, make_auth
from regpipe.providers.opusdns.poller import OpusDnsPoller, PollerConfig, lease_name
from regpipe.runtime import run_ingest_worker
from regpipe.services.opusdns_poller.settings import OpusDnsPollerSettings

__all__ = ["SERVICE", "run"]

SERVICE = "opusdns-poller"


def _user_agent() -> str:
    # Names this replica, so the provider (and our simulator) can tell replicas apart in their logs.
    try:
        release = version("regpipe")
    except PackageNotFoundError:
        release = "dev"
    return f"regpipe-{SERVICE}/{release} ({socket.gethostname()}; pid {os.getpid()})"


async def run(settings: OpusDnsPollerSettings) -> None:
    """Run the poller until SIGTERM/SIGINT."""
    config = PollerConfig(
        account=settings.opusdns_account,
        page_size=settings.opusdns_page_size,
        poll_interval_s=settings.opusdns_poll_interval_s,
        ack_concurrency=settings.opusdns_ack_concurrency,
        error_backoff_initial_s=settings.opusdns_backoff_initial_s,
        error_backoff_max_s=settings.opusdns_backoff_max_s,
        error_pause_s=settings.opusdns_error_pause_s,
        shutdown_grace_s=settings.shutdown_grace_s,
        lease_check_interval_s=settings.lease_check_interval_s,
    )
    auth = make_auth(
        settings.opusdns_base_url,
        api_key=settings.opusdns_api_key,
        client_id=settings.opusdns_client_id,
        client_secret=settings.opusdns_client_secret,
    )

    @asynccontextmanager
    async def poller(publisher: RawPublisher, stop: asyncio.Event) -> AsyncIterator[OpusDnsPoller]:
        async with OpusDnsClient(
            settings.opusdns_base_url, auth, timeout_s=settings.opusdns_timeout_s, user_agent=_user_agent()
        ) as client:
            lease = settings.lease(lease_name(settings.opusdns_account), service=SERVICE, stop=stop)
            yield OpusDnsPoller(client, publisher, lease, config)

    await run_ingest_worker(SERVICE, settings, poller, client_id=f"{SERVICE}-{settings.opusdns_account}")
