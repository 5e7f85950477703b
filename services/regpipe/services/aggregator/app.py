"""Wires the aggregator: PostgreSQL pool, FastStream consumer, outbox relay, scheduler under a lease, read API."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import asyncpg

from regpipe.aggregate.api import create_read_api
from regpipe.aggregate.consumer import ConsumerConfig, EventApplier, build_broker
from regpipe.aggregate.probe import StoreProbe
from regpipe.aggregate.scheduler import Scheduler, SchedulerConfig
from regpipe.aggregate.store import OutboxRelay
from regpipe.kafka.producer import create_producer
from regpipe.pg.migrate import apply_migrations
from regpipe.runtime import run_worker, serve_app
from regpipe.services.aggregator.settings import AggregatorSettings

__all__ = ["SERVICE", "run"]

SERVICE = "aggregator"


def _now() -> datetime:
    return datetime.now(UTC)


async def run(settings: AggregatorSettings) -> None:
    """Run consumer, relay, scheduler and read API until SIGTERM/SIGINT."""
    dsn = settings.postgres_dsn.get_secret_value()
    await apply_migrations(dsn)  # idempotent and advisory-locked: replicas starting together are fine
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=settings.aggregator_pg_pool_size)
    producer = create_producer(settings.kafka_connection(), client_id=f"regpipe-{SERVICE}-relay")
    relay = OutboxRelay(pool, producer, settings.aggregator_outbox_topic)
    probe = StoreProbe(pool)
    applier = EventApplier(pool, _now, on_applied=relay.wake.set)
    broker = build_broker(
        settings.kafka_connection(),
        ConsumerConfig(
            topic=settings.aggregator_input_topic,
            group_id=settings.aggregator_group_id,
            batch_max=settings.aggregator_batch_max,
        ),
        applier,
    )
    started = asyncio.Event()

    def ready() -> str | None:
        if not started.is_set():
            return "consumer not started yet"
        return applier.store_error or probe.error

    api = create_read_api(service=SERVICE, pool=lambda: pool, tokens=settings.api_tokens(), ready=ready)

    async def work(stop: asyncio.Event) -> None:
        lease = settings.lease(settings.aggregator_lease_name, service=SERVICE, stop=stop)
        scheduler = Scheduler(
            pool,
            _now,
            SchedulerConfig(
                interval_s=settings.aggregator_scan_interval_s,
                settle_quiet_s=settings.aggregator_settle_quiet_s,
                lease_check_interval_s=settings.lease_check_interval_s,
                shutdown_grace_s=settings.shutdown_grace_s,
            ),
            lease=lease,
            wake_relay=relay.wake,
        )
        await producer.start()
        try:
            async with contextlib.AsyncExitStack() as stack:
                if settings.health_port:
                    await stack.enter_async_context(serve_app(api, settings.health_host, settings.health_port))
                await broker.start()
                stack.push_async_callback(broker.stop)
                stack.callback(applier.stop)  # runs first: a batch retrying against PostgreSQL gives up, unacked
                started.set()
                async with asyncio.TaskGroup() as tasks:
                    tasks.create_task(probe.run(stop))
                    tasks.create_task(relay.run(stop, interval_s=settings.aggregator_relay_interval_s))
                    tasks.create_task(scheduler.run(stop))
        finally:
            await producer.stop()
            await pool.close()

    await run_worker(SERVICE, work, ready=ready, health_port=0)
