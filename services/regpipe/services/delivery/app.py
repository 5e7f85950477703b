"""Wires the delivery service: PostgreSQL pool, guarded HTTP client, FastStream intake, dispatcher, admin API."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid

import asyncpg

from regpipe.delivery.address_guard import AddressGuard, SystemResolver
from regpipe.delivery.admin_api import create_admin_app
from regpipe.delivery.dispatcher import Dispatcher, DispatcherConfig
from regpipe.delivery.http_client import create_delivery_client
from regpipe.delivery.intake import Intake
from regpipe.delivery.job_queue import JobQueue
from regpipe.delivery.kafka_intake import IntakeConfig, create_intake_broker
from regpipe.kafka.producer import create_producer
from regpipe.pg.migrate import apply_migrations
from regpipe.runtime import run_worker, serve_app
from regpipe.services.delivery.settings import DeliverySettings

__all__ = ["SERVICE", "create_guard", "run"]

SERVICE = "delivery"


def create_guard(settings: DeliverySettings) -> AddressGuard:
    """The SSRF guard: the system resolver and the configured allow-list."""
    return AddressGuard.with_allow_list(SystemResolver(), settings.delivery_allowed_networks)


def _owner() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


async def run(settings: DeliverySettings) -> None:
    """Run intake, dispatcher and admin API until SIGTERM/SIGINT."""
    dsn = settings.postgres_dsn.get_secret_value()
    await apply_migrations(dsn)  # idempotent and advisory-locked: replicas starting together are fine
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=settings.delivery_pg_pool_size)
    guard = create_guard(settings)
    client = create_delivery_client(guard, timeout_s=settings.delivery_request_timeout_s)
    producer = create_producer(settings.kafka_connection(), client_id=f"regpipe-{SERVICE}")
    broker = create_intake_broker(
        settings.kafka_connection(),
        IntakeConfig(
            topic=settings.delivery_input_topic,
            group_id=settings.delivery_group_id,
            max_records=settings.delivery_intake_batch_max,
        ),
        Intake(pool),
    )
    sealer = settings.sealer()
    dispatcher = Dispatcher(
        pool,
        JobQueue(pool, _owner(), settings.delivery_lease_s, sealer),
        client,
        DispatcherConfig(
            schedule=settings.retry_schedule(),
            disable_after_s=settings.delivery_disable_after_s,
            poll_interval_s=settings.delivery_poll_interval_s,
            max_in_flight=settings.delivery_max_in_flight,
            dlq_topic=settings.delivery_dlq_topic,
            drain_timeout_s=min(settings.delivery_request_timeout_s, 10.0),
        ),
        producer,
    )

    def ready() -> str | None:
        return None if dispatcher.healthy else "dispatcher not running yet"

    admin = create_admin_app(pool, guard, settings.delivery_admin_token, ready, sealer)

    async def work(stop: asyncio.Event) -> None:
        await producer.start()
        try:
            await broker.start()
            try:
                async with contextlib.AsyncExitStack() as stack:
                    if settings.health_port:
                        await stack.enter_async_context(serve_app(admin, settings.health_host, settings.health_port))
                    await dispatcher.run(stop)
            finally:
                await broker.stop()
        finally:
            await producer.stop()
            await client.aclose()
            await pool.close()

    await run_worker(SERVICE, work, ready=ready, health_port=0)
