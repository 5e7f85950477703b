"""Wires the deduplicator: one consumer, one producer, the forwarder loop, and the worker runtime."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer

from regpipe.dedup import ForwarderConfig, run_forwarder
from regpipe.kafka.producer import create_producer
from regpipe.runtime import run_worker
from regpipe.services.deduplicator.settings import DeduplicatorSettings

SERVICE = "deduplicator"


async def run(settings: DeduplicatorSettings) -> None:
    """Run the stage until SIGTERM/SIGINT."""
    config = ForwarderConfig(
        group_id=settings.dedup_group_id,
        input_topic=settings.dedup_input_topic,
        output_topic=settings.dedup_output_topic,
        batch_max=settings.dedup_batch_max,
    )
    consumer = AIOKafkaConsumer(
        config.input_topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=config.group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id=SERVICE,
    )
    producer = create_producer(settings.kafka_bootstrap_servers, client_id=SERVICE)
    started = asyncio.Event()

    def ready() -> str | None:
        return None if started.is_set() else "kafka clients not started"

    async def work(stop: asyncio.Event) -> None:
        await producer.start()
        await consumer.start()
        started.set()
        try:
            await run_forwarder(consumer, producer, config, stop)
        finally:
            await consumer.stop()
            await producer.stop()

    await run_worker(SERVICE, work, ready=ready, health_host=settings.health_host, health_port=settings.health_port)
