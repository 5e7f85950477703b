"""Wires the OpusDNS poller: one producer, one API client, the account's lease, the poll loop, the runtime."""

from __future__ import annotations

import asyncio
import os
import socket
from importlib.metadata import PackageNotFoundError, version

from regpipe.contract.sealing import RawSealer, parse_keyring
from regpipe.ingest.publisher import RawPublisher
from regpipe.kafka.producer import create_producer
from regpipe.leadership.lease import AdvisoryLease
from regpipe.providers.opusdns.client import OpusDnsClient, make_auth
from regpipe.providers.opusdns.poller import OpusDnsPoller, PollerConfig, lease_name
from regpipe.runtime import run_worker
from regpipe.services.opusdns_poller.settings import OpusDnsPollerSettings

SERVICE = "opusdns-poller"


def _sealer(settings: OpusDnsPollerSettings) -> RawSealer | None:
    if settings.raw_seal_keys is None:
        return None
    return RawSealer(parse_keyring(settings.raw_seal_keys.get_secret_value()), settings.raw_seal_active_key)


def _user_agent() -> str:
    # Names this replica, so the provider (and our simulator) can tell replicas apart in their logs.
    try:
        release = version("regpipe")
    except PackageNotFoundError:
        release = "dev"
    return f"regpipe-{SERVICE}/{release} ({socket.gethostname()}; pid {os.getpid()})"


async def run(settings: OpusDnsPollerSettings) -> None:
    """Run the poller until SIGTERM/SIGINT."""
    producer = create_producer(settings.kafka_bootstrap_servers, client_id=f"{SERVICE}-{settings.opusdns_account}")
    publisher = RawPublisher(producer, sealer=_sealer(settings))
    config = PollerConfig(
        account=settings.opusdns_account,
        page_size=settings.opusdns_page_size,
        poll_interval_s=settings.opusdns_poll_interval_s,
        ack_concurrency=settings.opusdns_ack_concurrency,
        error_backoff_initial_s=settings.opusdns_backoff_initial_s,
        error_backoff_max_s=settings.opusdns_backoff_max_s,
        error_pause_s=settings.opusdns_error_pause_s,
    )
    auth = make_auth(
        settings.opusdns_base_url,
        api_key=settings.opusdns_api_key,
        client_id=settings.opusdns_client_id,
        client_secret=settings.opusdns_client_secret,
    )
    started = asyncio.Event()
    poller: OpusDnsPoller | None = None

    def ready() -> str | None:
        if not started.is_set():
            return "kafka producer not started"
        return poller.not_ready_reason() if poller is not None else "poller not started"

    async def work(stop: asyncio.Event) -> None:
        nonlocal poller
        lease = AdvisoryLease(
            settings.postgres_dsn.get_secret_value(),
            lease_name(settings.opusdns_account),
            service=SERVICE,
            retry_interval_s=settings.lease_retry_interval_s,
            stop=stop,
        )
        await producer.start()
        started.set()
        try:
            async with OpusDnsClient(
                settings.opusdns_base_url, auth, timeout_s=settings.opusdns_timeout_s, user_agent=_user_agent()
            ) as client:
                poller = OpusDnsPoller(client, publisher, lease, config)
                await poller.run(stop)
        finally:
            await producer.stop()

    await run_worker(SERVICE, work, ready=ready, health_host=settings.health_host, health_port=settings.health_port)
