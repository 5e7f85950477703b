"""Wires the OpenSRS poller: one producer, one API client, the account's lease, the poll loop, the runtime."""

from __future__ import annotations

import asyncio

from regpipe.contract.sealing import RawSealer, parse_keyring
from regpipe.ingest.publisher import RawPublisher
from regpipe.kafka.producer import create_producer
from regpipe.leadership.lease import AdvisoryLease
from regpipe.providers.opensrs.client import OpenSRSClient
from regpipe.providers.opensrs.poller import OpenSRSPoller, PollerConfig, PollerState, lease_name
from regpipe.runtime import run_worker
from regpipe.services.opensrs_poller.settings import OpenSRSPollerSettings

SERVICE = "opensrs-poller"


def _sealer(settings: OpenSRSPollerSettings) -> RawSealer | None:
    if settings.raw_seal_keys is None:
        return None
    return RawSealer(parse_keyring(settings.raw_seal_keys.get_secret_value()), settings.raw_seal_active_key)


async def run(settings: OpenSRSPollerSettings) -> None:
    """Run the poller until SIGTERM/SIGINT."""
    producer = create_producer(settings.kafka_bootstrap_servers, client_id=f"{SERVICE}-{settings.opensrs_username}")
    publisher = RawPublisher(producer, sealer=_sealer(settings))
    config = PollerConfig(
        limit=settings.opensrs_poll_limit,
        interval_s=settings.opensrs_poll_interval_s,
        backoff_initial_s=settings.opensrs_backoff_initial_s,
        backoff_max_s=settings.opensrs_backoff_max_s,
        error_pause_s=settings.opensrs_error_pause_s,
        shutdown_grace_s=settings.shutdown_grace_s,
    )
    started = asyncio.Event()
    poller: OpenSRSPoller | None = None

    def ready() -> str | None:
        if not started.is_set():
            return "kafka producer not started"
        if poller is None or poller.state is PollerState.STARTING:
            return "lease state not known yet"
        return None

    async def work(stop: asyncio.Event) -> None:
        nonlocal poller
        lease = AdvisoryLease(
            settings.postgres_dsn.get_secret_value(),
            lease_name(settings.opensrs_username),
            service=SERVICE,
            retry_interval_s=settings.lease_retry_interval_s,
            stop=stop,
        )
        await producer.start()
        started.set()
        try:
            async with OpenSRSClient(
                settings.opensrs_url,
                username=settings.opensrs_username,
                api_key=settings.opensrs_api_key.get_secret_value(),
                timeout_s=settings.opensrs_timeout_s,
            ) as client:
                poller = OpenSRSPoller(client, publisher, lease, config)
                await poller.run(stop)
        finally:
            await producer.stop()

    await run_worker(SERVICE, work, ready=ready, health_host=settings.health_host, health_port=settings.health_port)
