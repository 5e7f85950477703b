"""The receiver's link to Kafka: starts the process's one producer (retrying while the broker is unreachable,
so the receiver can come up before Kafka), keeps recent proof that the broker answers, and stops the producer.

Until the producer has started, webhooks are answered 503 (the provider retries) and `/readyz` says not ready.
"""

from __future__ import annotations

import asyncio
import time

import stamina
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from regpipe.observability.logging import get_logger

__all__ = ["ProducerLink"]

_log = get_logger(__name__)


class ProducerLink:
    """Owns the producer's life: `open()` starts it in the background, `close()` flushes and stops it.

    Readiness needs contact with the broker within three probe intervals: every acknowledged publish counts, and
    a metadata request every `probe_interval_s` keeps an idle receiver's proof fresh.
    """

    def __init__(
        self,
        producer: AIOKafkaProducer,
        *,
        probe_interval_s: float = 5.0,
        start_retry_max_s: float = 5.0,
    ) -> None:
        self._producer = producer
        self._probe_interval_s = probe_interval_s
        # Three intervals: one lost probe (a slow metadata answer) must not flap readiness.
        self._stale_after_s = 3 * probe_interval_s
        self._start_retry_max_s = start_retry_max_s
        self._started = False
        self._last_contact = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def started(self) -> bool:
        """True once the producer is connected and has its idempotent producer id."""
        return self._started

    def note_acknowledged(self) -> None:
        """Record that the broker just acknowledged a record (cheaper proof of contact than a probe)."""
        self._last_contact = time.monotonic()

    def readiness(self) -> str | None:
        """None when ready, else why not (the `ReadinessCheck` signature of `regpipe.runtime`)."""
        if not self._started:
            return "kafka producer not started"
        silent_for = time.monotonic() - self._last_contact
        if silent_for > self._stale_after_s:
            return f"no answer from kafka for {silent_for:.0f} s"
        return None

    async def open(self) -> None:
        """Start connecting in the background; returns at once."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="kafka-producer-link")

    async def close(self) -> None:
        """Stop probing, then flush what is in flight and stop the producer."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])
        self._started = False
        await self._producer.stop()
        failure = None if task is None or task.cancelled() else task.exception()
        if failure is not None:
            raise failure

    async def _run(self) -> None:
        async for attempt in stamina.retry_context(
            on=(KafkaError, OSError), attempts=None, timeout=None, wait_max=self._start_retry_max_s
        ):
            with attempt:
                await self._producer.start()
        self._started = True
        self.note_acknowledged()
        _log.info("kafka producer started")
        while True:
            await asyncio.sleep(self._probe_interval_s)
            try:
                answered = await asyncio.wait_for(
                    self._producer.client.force_metadata_update(), timeout=self._probe_interval_s
                )
            except TimeoutError:
                answered = False
            if answered:
                self.note_acknowledged()
