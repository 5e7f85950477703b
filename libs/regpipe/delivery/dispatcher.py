"""The dispatcher: claims due jobs per endpoint capacity, sends them concurrently, records each outcome.

Never blocking: each endpoint gets at most its free slots (concurrency, rate limit) per claim, so a slow,
failing or throttled endpoint holds only its own slots; a `Retry-After` pauses that endpoint alone. Pending
retries live in the job table, so a SIGKILL loses none: the killed replica's leases expire and any replica sends
those jobs again. Exhausted jobs are published to the DLQ topic from an outbox (at-least-once there too).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from regpipe.delivery.attempt import AttemptResult, send_attempt
from regpipe.delivery.endpoint_slots import EndpointSlots
from regpipe.delivery.job_queue import ClaimedJob, DeadLetter, JobQueue
from regpipe.delivery.outcome import classify
from regpipe.delivery.schedule import RetrySchedule
from regpipe.delivery.signing import delivery_headers, valid_secrets
from regpipe.delivery.transitions import JobState, next_transition
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import (
    DELIVERY_ATTEMPT_SECONDS,
    DELIVERY_ATTEMPTS,
    DELIVERY_DEAD,
    DELIVERY_ENDPOINTS_DISABLED,
    DELIVERY_IN_FLIGHT,
)

__all__ = ["Dispatcher", "DispatcherConfig"]

_log = get_logger(__name__)
_CHANNEL = "delivery_jobs"
_FAILURE_PAUSE_S = 1.0
_OUTBOX_BATCH = 100


@dataclass(frozen=True, slots=True)
class DispatcherConfig:
    """How the dispatcher paces itself."""

    schedule: RetrySchedule
    disable_after_s: float = 5 * 24 * 3600
    poll_interval_s: float = 0.5  # due retries are found by polling; new jobs wake it via NOTIFY
    endpoints_refresh_s: float = 1.0
    max_in_flight: int = 512
    dlq_topic: str | None = None
    outbox_interval_s: float = 10.0
    drain_timeout_s: float = 10.0


class Dispatcher:
    """One per process; `run(stop)` until stop is set."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        queue: JobQueue,
        client: httpx.AsyncClient,
        config: DispatcherConfig,
        producer: AIOKafkaProducer | None = None,
    ) -> None:
        self._pool = pool
        self._queue = queue
        self._client = client
        self._config = config
        self._producer = producer
        self._slots = EndpointSlots()
        self._limits: dict[uuid.UUID, tuple[int, float | None]] = {}
        self._limits_at = -float("inf")
        self._wake = asyncio.Event()
        self._dead_waiting = True  # look at the outbox once at start (a previous run may have left some)
        self._outbox_at = -float("inf")
        self._tasks: set[asyncio.Task[None]] = set()
        self.healthy = False

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop`; then let in-flight attempts finish (bounded) and release what is left."""
        listener = await self._pool.acquire()
        await listener.add_listener(_CHANNEL, self._notified)
        stopper = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    claimed = await self._claim_and_start()
                    await self._publish_dead()
                    self.healthy = True
                except (asyncpg.PostgresError, OSError, KafkaError) as exc:
                    # PostgreSQL or Kafka unreachable: not ready, and try again shortly; nothing is lost, the jobs
                    # are rows and their leases expire.
                    self.healthy = False
                    _log.error("dispatch cycle failed", error=f"{type(exc).__name__}: {exc}"[:300])
                    await self._pause(stopper, _FAILURE_PAUSE_S)
                    continue
                if claimed:
                    continue
                await self._pause(stopper, self._config.poll_interval_s)
        finally:
            stopper.cancel()
            self.healthy = False
            await self._drain()
            with contextlib.suppress(asyncpg.PostgresError, OSError):
                await listener.remove_listener(_CHANNEL, self._notified)
            await self._pool.release(listener)

    async def _pause(self, stopper: asyncio.Task[Any], seconds: float) -> None:
        waker = asyncio.create_task(self._wake.wait())
        await asyncio.wait({waker, stopper}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        waker.cancel()

    def _notified(self, *_: Any) -> None:
        self._wake.set()

    async def _refresh_limits(self) -> None:
        if time.monotonic() - self._limits_at < self._config.endpoints_refresh_s:
            return
        rows = await self._queue.endpoints()
        self._limits = {row["id"]: (row["max_concurrency"], row["rate_limit_per_s"]) for row in rows}
        self._limits_at = time.monotonic()

    async def _claim_and_start(self) -> int:
        await self._refresh_limits()
        room = self._config.max_in_flight - self._slots.total
        if room <= 0:
            return 0
        now = time.monotonic()
        capacity: dict[uuid.UUID, int] = {}
        for endpoint, (concurrency, rate) in self._limits.items():
            free = min(self._slots.free(endpoint, concurrency, rate, now), room)
            if free > 0:
                capacity[endpoint] = free
        jobs = await self._queue.claim(capacity)
        for job in jobs:
            self._slots.started(job.subscription_id)
            task = asyncio.create_task(self._deliver(job), name=f"delivery-{job.job_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        DELIVERY_IN_FLIGHT.set(self._slots.total)
        return len(jobs)

    async def _deliver(self, job: ClaimedJob) -> None:
        try:
            result = await self._attempt(job)
            transition = next_transition(job.attempts + 1, result.classification, self._config.schedule)
            DELIVERY_ATTEMPTS.labels(transition.outcome).inc()
            DELIVERY_ATTEMPT_SECONDS.observe(result.latency_ms / 1000)
            recorded = await self._queue.record(job, result, transition)
            if not recorded.owned:
                _log.warning(
                    "lease lost before the outcome was recorded", job_id=job.job_id, event_id=str(job.event_id)
                )
                return
            if transition.state is JobState.DEAD:
                DELIVERY_DEAD.inc()
                self._dead_waiting = True  # the outbox has work
            if transition.disable_reason is not None:
                await self._disable(job.subscription_id, "gone", transition.disable_reason)
            elif transition.state is not JobState.DELIVERED and JobQueue.failing_too_long(
                recorded.failing_since, datetime.now(UTC), self._config.disable_after_s
            ):
                reason = f"no successful delivery for {self._config.disable_after_s:g} s"
                await self._disable(job.subscription_id, "failing", reason)
        except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the others; its lease expires
            _log.error(
                "delivery bookkeeping failed; the job is retried when its lease expires",
                job_id=job.job_id,
                event_id=str(job.event_id),
                error=f"{type(exc).__name__}: {exc}"[:300],
            )
        finally:
            self._slots.finished(job.subscription_id)
            DELIVERY_IN_FLIGHT.set(self._slots.total)
            self._wake.set()

    async def _attempt(self, job: ClaimedJob) -> AttemptResult:
        now = datetime.now(UTC)
        secrets = valid_secrets(job.secrets, now)
        if not secrets:
            return AttemptResult(now, 0.0, None, "no valid signing secret", None, classify(None))
        headers = delivery_headers(secrets, str(job.event_id), job.body, int(now.timestamp()))
        return await send_attempt(self._client, job.url, headers, job.body)

    async def _disable(self, subscription_id: uuid.UUID, kind: str, reason: str) -> None:
        if await self._queue.disable(subscription_id, kind, reason):
            DELIVERY_ENDPOINTS_DISABLED.labels(kind).inc()
            _log.warning("endpoint disabled", subscription_id=str(subscription_id), kind=kind, reason=reason)
            self._limits_at = -float("inf")

    async def _publish_dead(self) -> None:
        # The outbox is read when this replica killed a job, and every `outbox_interval_s` for the jobs another
        # replica left unpublished (it died between marking and publishing), not on every claim.
        if self._producer is None or self._config.dlq_topic is None:
            return
        now = time.monotonic()
        if not self._dead_waiting and now - self._outbox_at < self._config.outbox_interval_s:
            return
        self._dead_waiting, self._outbox_at = False, now
        letters = await self._queue.unpublished_dead(_OUTBOX_BATCH)
        if not letters:
            return
        self._dead_waiting = len(letters) == _OUTBOX_BATCH  # more are waiting
        futures = [await self._producer.send(self._config.dlq_topic, **_dlq_record(letter)) for letter in letters]
        await asyncio.gather(*futures)
        await self._queue.mark_published([letter.job_id for letter in letters])

    async def _drain(self) -> None:
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=self._config.drain_timeout_s)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5)
        with contextlib.suppress(asyncpg.PostgresError, OSError):
            released = await self._queue.release()
            if released:
                _log.info("released leased jobs on shutdown", jobs=released)


def _dlq_record(letter: DeadLetter) -> dict[str, Any]:
    value = orjson.dumps(
        {
            "subscription_id": str(letter.subscription_id),
            "event_id": str(letter.event_id),
            "job_id": letter.job_id,
            "attempts": letter.attempts,
            "last_status": letter.last_status,
            "last_error": letter.last_error,
            "event": orjson.Fragment(letter.body),
        }
    )
    return {"key": f"{letter.subscription_id}:{letter.event_id}".encode(), "value": value}
