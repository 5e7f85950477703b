"""The OpenSRS event poller of one reseller account: POLL, publish the reply to the raw topic, then ACK.

Guarantee: at-least-once into `registrar.raw.v1`. Each poll reply is published whole, exactly as received, as one
raw record; its events are ACKed only after Kafka acknowledged that record, and only events of that reply are
ACKed. A crash between publish and ACK re-publishes the same events on the next poll (the deduplicator removes
the copies). Only the holder of the account's advisory lease polls; losing the lease stops polling at once.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from enum import StrEnum

from regpipe.contract.taxonomy import Source, Transport
from regpipe.ingest.publisher import RawPublisher
from regpipe.kafka.errors import PublishError
from regpipe.leadership.lease import AdvisoryLease, LeaseLostError
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import INGEST_PUBLISH_FAILED, INGEST_PUBLISHED, POLL_ACKED, POLL_ERRORS
from regpipe.providers.opensrs.client import OpenSRSClient
from regpipe.providers.opensrs.errors import AuthenticationError, OpenSRSError, ReplyError, TransportError
from regpipe.providers.opensrs.protocol import MAX_POLL_LIMIT

__all__ = ["POLL_EVENT_TYPE", "OpenSRSPoller", "PollerConfig", "PollerState", "lease_name"]

_log = get_logger(__name__)

#: The `provider-event-type` header of a raw record holding a whole poll reply.
POLL_EVENT_TYPE = "EVENT.POLL"
_SOURCE = Source.OPENSRS.value
_TRANSPORT = Transport.POLL.value


def lease_name(username: str) -> str:
    """The advisory lease that lets one replica poll `username`."""
    return f"opensrs-poller:{username}"


@dataclass(frozen=True, slots=True)
class PollerConfig:
    """How often and how hard the poller asks."""

    limit: int = 1
    interval_s: float = 30.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 60.0
    error_pause_s: float = 300.0
    shutdown_grace_s: float = 10.0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_POLL_LIMIT:
            raise ValueError(f"limit must be within 1..{MAX_POLL_LIMIT}, got {self.limit}")


class PollerState(StrEnum):
    """Where the poller is in its life."""

    STARTING = "starting"
    WAITING_FOR_LEASE = "waiting_for_lease"
    POLLING = "polling"
    STOPPED = "stopped"


def _error_kind(exc: Exception) -> str:
    if isinstance(exc, AuthenticationError):
        return "auth"
    if isinstance(exc, ReplyError):
        return "reply"
    if isinstance(exc, TransportError):
        return "transport"
    if isinstance(exc, PublishError):
        return "publish"
    return "other"


class OpenSRSPoller:
    """Polls one reseller account while holding its lease; `run(stop)` returns after `stop` is set."""

    def __init__(
        self,
        client: OpenSRSClient,
        publisher: RawPublisher,
        lease: AdvisoryLease,
        config: PollerConfig,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self._publisher = publisher
        self._lease = lease
        self._config = config
        self._rng = rng or random.Random()  # noqa: S311 -- backoff jitter, not a secret
        self._state = PollerState.STARTING

    @property
    def state(self) -> PollerState:
        """The current state (readiness: anything but STARTING)."""
        return self._state

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; an in-flight call gets `shutdown_grace_s` to finish, then is abandoned.

        Abandoning is safe at any point: an unpublished reply is polled again, an unsent ACK is sent next time.
        """
        polling = asyncio.create_task(self._run(stop), name=f"opensrs-poller-{self._client.username}")
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not polling.done():
                await asyncio.wait({polling}, timeout=self._config.shutdown_grace_s)
            if not polling.done():
                _log.warning("opensrs poller abandons an in-flight call to stop", grace_s=self._config.shutdown_grace_s)
                polling.cancel()
                await asyncio.wait({polling})
            if not polling.cancelled():
                polling.result()  # an unexpected error stops the service rather than polling on blindly
        finally:
            stopping.cancel()
            if not polling.done():  # run() itself was cancelled
                polling.cancel()
                await asyncio.wait({polling})
            self._state = PollerState.STOPPED

    async def _run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._state = PollerState.WAITING_FOR_LEASE
            if not await self._lease.acquire():
                return
            self._state = PollerState.POLLING
            try:
                await self._lead(stop)
            except LeaseLostError as exc:
                POLL_ERRORS.labels(_SOURCE, "lease_lost").inc()
                _log.warning("opensrs poller lost its lease; stopped polling", lease=self._lease.name, error=str(exc))
            finally:
                await self._lease.release()

    async def _lead(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            await self._lease.ensure_held()
            try:
                more = await self._cycle()
            except (OpenSRSError, PublishError) as exc:
                failures += 1
                delay = self._delay(exc, failures)
                POLL_ERRORS.labels(_SOURCE, _error_kind(exc)).inc()
                _log.warning(
                    "opensrs poll cycle failed",
                    error=str(exc),
                    kind=_error_kind(exc),
                    retriable=exc.retriable,
                    failures=failures,
                    pause_s=round(delay, 3),
                )
                await _wait(stop, delay)
                continue
            failures = 0
            if not more:
                await _wait(stop, self._config.interval_s)

    def _delay(self, exc: OpenSRSError | PublishError, failures: int) -> float:
        if not exc.retriable:
            # Credentials, permissions or data problems need a human; keep trying, but rarely.
            return self._config.error_pause_s
        # Capped exponential backoff with "equal jitter": never below half the step, so it still backs off.
        step = min(self._config.backoff_max_s, self._config.backoff_initial_s * 2.0 ** min(failures - 1, 30))
        return step / 2 + self._rng.uniform(0, step / 2)

    async def _cycle(self) -> bool:
        """One POLL -> publish -> ACK round; True when more events are waiting."""
        result = await self._client.poll(self._config.limit)
        if not result.event_ids:
            return False
        ids = result.event_ids
        try:
            record = await self._publisher.publish(
                result.body,
                source=Source.OPENSRS,
                transport=Transport.POLL,
                content_type="text/xml",
                provider_event_id=ids[0] if len(ids) == 1 else None,
                provider_event_type=POLL_EVENT_TYPE,
                account=self._client.username,
            )
        except PublishError:
            INGEST_PUBLISH_FAILED.labels(_SOURCE, _TRANSPORT).inc()
            raise
        INGEST_PUBLISHED.labels(_SOURCE, _TRANSPORT).inc()
        _log.info(
            "opensrs poll reply published",
            events=len(ids),
            key=record.key,
            partition=record.partition,
            offset=record.offset,
        )
        remaining: int | None = None
        for event_id in ids:
            ack = await self._client.ack(event_id)
            if ack.known:
                POLL_ACKED.labels(_SOURCE).inc()
            remaining = ack.events_remaining
        # Unknown (an ACK answered 480): poll again; an empty reply then waits the interval.
        return remaining is None or remaining > 0


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `stop` is set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return
