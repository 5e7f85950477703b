"""The OpenSRS event poller of one reseller account: POLL, publish the reply to the raw topic, then ACK.

Guarantee: at-least-once into `registrar.raw.v1`. Each poll reply is published whole, exactly as received, as one
raw record; its events are ACKed only after Kafka acknowledged that record, and only events of that reply are
ACKed. A crash between publish and ACK re-publishes the same events on the next poll (the deduplicator removes
the copies). Only the holder of the account's advisory lease polls (`run_while_leader`); losing the lease stops
polling at once, and the lease is checked again before every poll.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from regpipe.contract.taxonomy import Source, Transport
from regpipe.ingest.publisher import RawPublisher
from regpipe.kafka.errors import PublishError
from regpipe.leadership.loop import LeaderState, Lease, Shift, run_while_leader
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
    lease_check_interval_s: float = 2.0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_POLL_LIMIT:
            raise ValueError(f"limit must be within 1..{MAX_POLL_LIMIT}, got {self.limit}")


class PollerState(StrEnum):
    """Where the poller is in its life."""

    STARTING = "starting"
    WAITING_FOR_LEASE = "waiting_for_lease"
    POLLING = "polling"
    STOPPED = "stopped"


_STATES = {
    LeaderState.STARTING: PollerState.STARTING,
    LeaderState.STANDING_BY: PollerState.WAITING_FOR_LEASE,
    LeaderState.LEADING: PollerState.POLLING,
    LeaderState.STOPPED: PollerState.STOPPED,
}


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

    def __init__(self, client: OpenSRSClient, publisher: RawPublisher, lease: Lease, config: PollerConfig) -> None:
        self._client = client
        self._publisher = publisher
        self._lease = lease
        self._config = config
        self._state = PollerState.STARTING

    @property
    def state(self) -> PollerState:
        """The current state (readiness: anything but STARTING)."""
        return self._state

    def not_ready_reason(self) -> str | None:
        """None once this replica knows whether it leads; the readiness protocol of every ingest worker."""
        return "lease state not known yet" if self._state is PollerState.STARTING else None

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; an in-flight call gets `shutdown_grace_s` to finish, then is abandoned.

        Abandoning is safe at any point: an unpublished reply is polled again, an unsent ACK is sent next time.
        """
        await run_while_leader(
            self._lease,
            self._lead,
            stop,
            check_interval_s=self._config.lease_check_interval_s,
            shutdown_grace_s=self._config.shutdown_grace_s,
            on_state=self._enter,
            on_lost=lambda _: POLL_ERRORS.labels(_SOURCE, "lease_lost").inc(),
        )

    def _enter(self, state: LeaderState) -> None:
        self._state = _STATES[state]

    async def _lead(self, shift: Shift) -> None:
        config = self._config
        while not shift.stop.is_set():
            more = await shift.fenced_step(
                self._lease,
                self._cycle,
                backoff=self._backoff,
                initial_s=config.backoff_initial_s,
                max_s=config.backoff_max_s,
            )
            if not more:
                await asyncio.sleep(config.interval_s)  # cancelled at once on stop: no step in flight

    def _backoff(self, exc: Exception) -> bool | float:
        """stamina's hook: back off exponentially on what may pass, pause long on what needs a human."""
        if not isinstance(exc, OpenSRSError | PublishError):
            return False
        kind = _error_kind(exc)
        POLL_ERRORS.labels(_SOURCE, kind).inc()
        _log.warning("opensrs poll cycle failed", error=str(exc), kind=kind, retriable=exc.retriable)
        # Credentials, permissions or data problems need a human; keep trying, but rarely.
        return True if exc.retriable else self._config.error_pause_s

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
        # A replica that lost its lease while publishing must not ACK: the new leader polls these events again.
        await self._lease.ensure_held()
        remaining: int | None = None
        for event_id in ids:
            ack = await self._client.ack(event_id)
            if ack.known:
                POLL_ACKED.labels(_SOURCE).inc()
            remaining = ack.events_remaining
        # Unknown (an ACK answered 480): poll again; an empty reply then waits the interval.
        return remaining is None or remaining > 0
