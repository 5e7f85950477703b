"""The OpenSRS event poller of one reseller account: POLL, publish each event to the raw topic, then ACK.

Guarantee: at-least-once into `registrar.raw.v1`. Each event of a poll reply is published as its own raw record
(a one-event reply: the reply's envelope around that item, as decoded), so one event that cannot be mapped is
quarantined alone; its events are ACKed only after Kafka acknowledged every record of the reply, and only events
of that reply are ACKed. A crash between publish and ACK re-publishes the same events on the next poll (the
deduplicator removes the copies). Only the holder of the account's lease polls (`run_while_leader`); losing the
lease stops polling at once, and the lease is checked again before every poll and ACK.

What cannot be ACKed is kept rather than retried in silence. A reply the hardened parser refuses (entities at
once; anything else once it comes back byte for byte) is published raw, once, so the normalizer quarantines it
(sealed, as every raw record); the poll is then narrowed to one event to isolate it, and when the oldest event
itself is refused the account is blocked: counted, `regpipe_poll_blocked` set, readiness says why, polled again
after `error_pause_s`. An item without `event_id` is published once and the poll widened past it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum

import orjson
from pydantic import JsonValue

from regpipe.contract.taxonomy import Source, Transport
from regpipe.ingest.publisher import PublishedRecord, RawPublisher
from regpipe.kafka.errors import PublishError
from regpipe.leadership.loop import LeaderState, Lease, Shift, run_while_leader
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import (
    INGEST_PUBLISH_FAILED,
    INGEST_PUBLISHED,
    POLL_ACKED,
    POLL_BLOCKED,
    POLL_ERRORS,
)
from regpipe.providers.opensrs.client import OpenSRSClient, PollResult
from regpipe.providers.opensrs.errors import (
    AccountBlockedError,
    AuthenticationError,
    OpenSRSError,
    RefusedReplyError,
    ReplyError,
    TransportError,
)
from regpipe.providers.opensrs.payloads import Reply
from regpipe.providers.opensrs.protocol import MAX_POLL_LIMIT, as_ops_value, encode_reply

__all__ = ["POLL_EVENT_TYPE", "OpenSRSPoller", "PollerConfig", "PollerState", "lease_name"]

_log = get_logger(__name__)

#: The `provider-event-type` header of a raw record holding a poll reply (one event, or a refused reply).
POLL_EVENT_TYPE = "EVENT.POLL"
_KEPT_MEMORY = 1024  # fingerprints of refused replies and id-less items already kept, so each is published once
# A reply that is not well-formed may have been cut short in transit: asked again this often before it is kept.
_REFUSALS_BEFORE_KEEPING = 3
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
    if isinstance(exc, AccountBlockedError):
        return "blocked"
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
        self._narrowed = False  # polling one event at a time to isolate a refused reply
        self._limit = config.limit
        self._refusals = 0  # refused replies in a row
        self._kept: OrderedDict[str, None] = OrderedDict()
        self._blocked: str | None = None
        POLL_BLOCKED.labels(_SOURCE, client.username).set(0)

    @property
    def state(self) -> PollerState:
        """The current state (readiness: anything but STARTING)."""
        return self._state

    @property
    def blocked(self) -> str | None:
        """Why the account is blocked (its oldest event can be neither polled nor ACKed); None when it is not."""
        return self._blocked

    def not_ready_reason(self) -> str | None:
        """None once this replica knows whether it leads and the account is not blocked (readiness of every
        ingest worker: a blocked account needs a human, and `/readyz` says why)."""
        if self._state is PollerState.STARTING:
            return "lease state not known yet"
        return None if self._blocked is None else f"account blocked: {self._blocked}"

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
        limit = self._limit
        try:
            result = await self._client.poll(limit)
        except RefusedReplyError as exc:
            await self._keep_refused(exc, limit)
            return True  # narrowed: poll again at once, one event at a time
        self._refusals = 0
        if not result.items:
            self._widen(narrowed=False, unackable=0)
            self._set_blocked(None)
            return False
        self._set_blocked(None)
        await self._publish_events(result)
        # A replica that lost its lease while publishing must not ACK: the new leader polls these events again.
        await self._lease.ensure_held()
        remaining: int | None = None
        for event_id in result.event_ids:
            ack = await self._client.ack(event_id)
            if ack.known:
                POLL_ACKED.labels(_SOURCE).inc()
            remaining = ack.events_remaining
        if result.unackable:
            # They stay at the head of the queue: ask for that many more, or nothing behind them ever comes.
            self._widen(narrowed=self._narrowed, unackable=result.unackable)
            return bool(result.event_ids)
        # Unknown (an ACK answered 480): poll again; an empty reply then waits the interval.
        return remaining is None or remaining > 0

    async def _publish_events(self, result: PollResult) -> None:
        """Publish every event of the reply as its own raw record (id-less ones once); all acknowledged, or raise."""
        sends = []
        idless: list[str | None] = []  # per send: the fingerprint of an item without event_id, else None
        for item in result.items:
            event_id = item.get("event_id")
            body = _one_event_reply(result.reply, item)
            if isinstance(event_id, str) and event_id:
                sends.append(self._publish(body, event_id))
                idless.append(None)
            elif not self._already_kept(fingerprint := _fingerprint(orjson.dumps(item, option=orjson.OPT_SORT_KEYS))):
                # By content: the reply around it has a new transaction id every time.
                sends.append(self._publish(body, None))
                idless.append(fingerprint)
        outcomes = await asyncio.gather(*sends, return_exceptions=True)
        records: list[PublishedRecord] = []
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            records.append(outcome)
        for kept, record in zip(idless, records, strict=True):
            if kept is None:
                continue
            self._remember(kept)
            POLL_ERRORS.labels(_SOURCE, "event_without_id").inc()
            _log.error(
                "opensrs event without event_id kept as a raw record; it can never be ACKed",
                account=self._client.username,
                **record.log_fields,
            )
        _log.info("opensrs poll reply published", events=len(sends), limit=self._limit)

    async def _publish(self, body: bytes, event_id: str | None) -> PublishedRecord:
        try:
            record = await self._publisher.publish(
                body,
                source=Source.OPENSRS,
                transport=Transport.POLL,
                content_type="text/xml",
                provider_event_id=event_id,
                provider_event_type=POLL_EVENT_TYPE,
                account=self._client.username,
            )
        except PublishError as exc:
            INGEST_PUBLISH_FAILED.labels(_SOURCE, _TRANSPORT).inc()
            _log.warning(
                "raw record not published",
                account=self._client.username,
                ingest_id=exc.ingest_id,
                provider_event_id=event_id,
                error=str(exc),
            )
            raise
        INGEST_PUBLISHED.labels(_SOURCE, _TRANSPORT).inc()
        # The raw record's ingest id names this event in every later log line until it has a canonical id.
        _log.info(
            "raw record published", account=self._client.username, provider_event_id=event_id, **record.log_fields
        )
        return record

    async def _keep_refused(self, exc: RefusedReplyError, limit: int) -> None:
        """Keep a refused reply (published once), narrow the poll to isolate it, or raise when the account is
        blocked. Entities are refused for good at once; other refusals are asked again first (a reply cut short)."""
        self._refusals += 1
        if not exc.unsafe and self._refusals < _REFUSALS_BEFORE_KEEPING:
            raise exc  # backed off and asked again, as any transport error
        # Once blocked, the same event refused again (in a reply with a new transaction id) is not kept again.
        if self._blocked is None and not self._already_kept(fingerprint := _fingerprint(exc.body)):
            record = await self._publish(exc.body, None)
            self._remember(fingerprint)
            POLL_ERRORS.labels(_SOURCE, "refused_reply").inc()
            # The parser's own message may quote the reply: name the refusal only.
            refusal = type(exc.__cause__).__name__ if exc.__cause__ is not None else "unexpected shape"
            _log.error(
                "opensrs poll reply refused by the XML parser; kept as a raw record",
                account=self._client.username,
                limit=limit,
                error=refusal,
                **record.log_fields,
            )
        self._refusals = 0
        if limit > 1:
            self._narrowed = True
            self._limit = 1
            _log.warning("opensrs poll narrowed to one event to isolate a refused reply", limit=1)
            return
        reason = "the oldest queued event's reply is refused by the XML parser (kept in quarantine)"
        self._set_blocked(reason)
        raise AccountBlockedError(reason) from exc

    def _widen(self, *, narrowed: bool, unackable: int) -> None:
        self._narrowed = narrowed
        base = 1 if narrowed else self._config.limit
        self._limit = min(MAX_POLL_LIMIT, base + unackable)
        if base + unackable > MAX_POLL_LIMIT:
            self._set_blocked(f"{unackable} events without event_id fill the largest poll; none can be ACKed")

    def _already_kept(self, fingerprint: str) -> bool:
        return fingerprint in self._kept

    def _remember(self, fingerprint: str) -> None:
        self._kept[fingerprint] = None
        if len(self._kept) > _KEPT_MEMORY:
            self._kept.popitem(last=False)

    def _set_blocked(self, reason: str | None) -> None:
        if reason != self._blocked:
            if reason is None:
                _log.info("opensrs account unblocked", account=self._client.username)
            else:
                _log.error("opensrs account blocked", account=self._client.username, reason=reason)
        self._blocked = reason
        POLL_BLOCKED.labels(_SOURCE, self._client.username).set(0 if reason is None else 1)


def _fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _one_event_reply(reply: Reply, item: dict[str, JsonValue]) -> bytes:
    """The reply's envelope around one of its events: what the mapper reads, event by event."""
    return encode_reply(
        is_success=reply.is_success,
        response_code=reply.response_code,
        response_text=reply.response_text or "",
        attributes={"events": [as_ops_value(item)]},
        transaction_id=reply.transaction_id,
    )
