"""The wiring every ingest worker service shares (the pollers, the IMAP parser): one producer, the sealing raw
publisher, readiness that waits for the producer and then asks the worker, the worker's run under `run_worker`.

A service only says how to build its worker around the publisher; the started/ready/work closures live here once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from regpipe.contract.sealing import RawSealer
from regpipe.ingest.publisher import RawPublisher
from regpipe.kafka.connection import KafkaConnection
from regpipe.kafka.producer import create_producer
from regpipe.runtime.health import Readiness
from regpipe.runtime.service import run_worker

__all__ = ["IngestServiceSettings", "IngestWorker", "WorkerFactory", "run_ingest_worker"]


class IngestWorker(Readiness, Protocol):
    """A poller or mailbox reader: ready or not, and runs until `stop` is set."""

    async def run(self, stop: asyncio.Event) -> None:
        """Ingest until `stop` is set."""
        ...


class IngestServiceSettings(Protocol):
    """What the wiring reads of a service's settings (`KafkaSettings` + `SealSettings` + `ServiceSettings`)."""

    def kafka_connection(self) -> KafkaConnection: ...

    @property
    def health_host(self) -> str: ...

    @property
    def health_port(self) -> int: ...

    def sealer(self) -> RawSealer: ...


#: Builds the worker around the publisher, inside whatever it needs open (an API client); `stop` ends a standby wait.
WorkerFactory = Callable[[RawPublisher, asyncio.Event], AbstractAsyncContextManager[IngestWorker]]


async def run_ingest_worker(
    service: str, settings: IngestServiceSettings, worker: WorkerFactory, *, client_id: str
) -> None:
    """Run the worker `worker` builds until SIGTERM/SIGINT, with the producer started first and stopped last."""
    producer = create_producer(settings.kafka_connection(), client_id=client_id)
    publisher = RawPublisher(producer, sealer=settings.sealer())
    started = asyncio.Event()
    running: IngestWorker | None = None

    def ready() -> str | None:
        if not started.is_set():
            return "kafka producer not started"
        if running is None:
            return "worker not started"
        return running.not_ready_reason()

    async def work(stop: asyncio.Event) -> None:
        nonlocal running
        await producer.start()
        started.set()
        try:
            async with worker(publisher, stop) as built:
                running = built
                await built.run(stop)
        finally:
            await producer.stop()

    await run_worker(service, work, ready=ready, health_host=settings.health_host, health_port=settings.health_port)
