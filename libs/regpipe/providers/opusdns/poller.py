"""The OpusDNS poller for one account: read the oldest unacknowledged events, publish each event of the page to
the raw topic, and only then acknowledge them.

Guarantee: at-least-once into `registrar.raw.v1`. An event is acknowledged only after every event of the page
holding it was acknowledged by Kafka, so a crash at any point means the page is read (and published) again, never
lost. Each event is its own raw record (the event object exactly as listed, re-serialised alone), so an event that
cannot be mapped is quarantined alone; an event the payload model refuses is published and acknowledged all the
same (the normalizer quarantines it), and one without an `event_id`, which cannot be acknowledged, is kept once.

Paging: acknowledging removes events from the `acknowledged=false` listing, so pages 2, 3, ... shift under a
reader that walks them and events get skipped. The poller therefore only ever reads page 1, oldest first, and
reads it again at once while it is non-empty; it waits the poll interval only when page 1 comes back empty.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import orjson
from pydantic import JsonValue

from regpipe.contract.taxonomy import Source, Transport
from regpipe.ingest.publisher import PublishedRecord
from regpipe.kafka.errors import PublishError
from regpipe.leadership.loop import LeaderState, Lease, Shift, run_while_leader
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import (
    INGEST_PUBLISH_FAILED,
    INGEST_PUBLISHED,
    POLL_ACKED,
    POLL_BACKLOG,
    POLL_BLOCKED,
    POLL_ERRORS,
    POLL_LAST_SUCCESS,
)
from regpipe.providers.opusdns.client import OpusDnsClient
from regpipe.providers.opusdns.errors import OpusDnsAuthError, OpusDnsError

__all__ = ["PAGE_EVENT_TYPE", "OpusDnsPoller", "PollerConfig", "Publisher", "lease_name"]

_log = get_logger(__name__)

#: `provider-event-type` header of a raw record holding one listed event (formerly a whole listing page).
PAGE_EVENT_TYPE = "events.page"
_KEPT_MEMORY = 1024  # fingerprints of events without an id already published, so each is kept once
_CONTENT_TYPE = "application/json"


def lease_name(account: str) -> str:
    """The leader-election lease of one account: one poller per account across all replicas."""
    return f"opusdns-poller:{account}"


class Publisher(Protocol):
    """What the poller needs of `regpipe.ingest.RawPublisher`."""

    async def publish(
        self,
        body: bytes,
        *,
        source: Source,
        transport: Transport,
        content_type: str,
        provider_event_id: str | None = None,
        provider_event_type: str | None = None,
        account: str | None = None,
    ) -> PublishedRecord: ...


@dataclass(frozen=True, slots=True)
class PollerConfig:
    """Settings of one account's poller."""

    account: str
    page_size: int = 100
    poll_interval_s: float = 30.0
    ack_concurrency: int = 4
    error_backoff_initial_s: float = 1.0
    error_backoff_max_s: float = 60.0
    error_pause_s: float = 300.0  # after a non-retriable error (bad credentials, missing permission)
    unready_after_failures: int = 3  # consecutive retriable failures before readiness reports the error
    shutdown_grace_s: float = 10.0  # time an in-flight step gets on stop
    lease_check_interval_s: float = 2.0


class OpusDnsPoller:
    """Polls one account while holding its lease; `run(stop)` until stopped.

    Retriable failures (Kafka not acknowledging, 429, 5xx, timeouts, a malformed page) back off exponentially;
    a non-retriable one (401, 403, another 4xx) makes the replica unready and pauses it for `error_pause_s`,
    since retrying at once cannot help and someone must fix the credentials.
    """

    def __init__(self, client: OpusDnsClient, publisher: Publisher, lease: Lease, config: PollerConfig) -> None:
        if not 1 <= config.page_size <= 1000:
            raise ValueError("page_size must be 1..1000 (the API's limit)")
        self._client = client
        self._publisher = publisher
        self._lease = lease
        self._config = config
        self._state = LeaderState.STARTING
        self._last_error: str | None = None
        self._failures = 0  # retriable failures in a row
        self._previous_ids: tuple[str, ...] = ()
        self._kept: OrderedDict[str, None] = OrderedDict()
        self._blocked: str | None = None

    def not_ready_reason(self) -> str | None:
        """None while polling works (or this replica is standing by); else why polling keeps failing."""
        if self._state is LeaderState.STARTING:
            return "lease state not known yet"
        if self._blocked is not None:
            return f"account blocked: {self._blocked}"
        return self._last_error

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; an in-flight step gets `shutdown_grace_s` to finish, then is cancelled.

        Cancelling is safe at every step: nothing is acknowledged before its page is on Kafka, so an abandoned step
        only means the page is read and published again.
        """
        await run_while_leader(
            self._lease,
            self._lead,
            stop,
            check_interval_s=self._config.lease_check_interval_s,
            shutdown_grace_s=self._config.shutdown_grace_s,
            on_state=self._enter,
            on_lost=lambda _: POLL_ERRORS.labels(Source.OPUSDNS.value, "lease_lost").inc(),
        )

    def _enter(self, state: LeaderState) -> None:
        self._state = state

    async def _lead(self, shift: Shift) -> None:
        config = self._config
        _log.info("polling as leader", account=config.account, page_size=config.page_size)
        self._failures = 0
        while not shift.stop.is_set():
            ids = await shift.fenced_step(
                self._lease,
                self.poll_once,
                backoff=self._backoff,
                initial_s=config.error_backoff_initial_s,
                max_s=config.error_backoff_max_s,
            )
            self._failures = 0
            self._last_error = None
            POLL_LAST_SUCCESS.labels(Source.OPUSDNS.value, config.account).set(time.time())
            if ids and ids == self._previous_ids:
                # Every event of this page was acknowledged last round yet is listed again (an acknowledgement
                # not applied yet, or one the API keeps refusing): wait instead of republishing in a tight loop.
                _log.warning("page 1 unchanged after acknowledging it", account=config.account, events=len(ids))
                await asyncio.sleep(config.poll_interval_s)
            elif not ids:
                await asyncio.sleep(config.poll_interval_s)
            self._previous_ids = ids

    def _backoff(self, exc: Exception) -> bool | float:
        """stamina's hook: exponential backoff for what may pass; a long pause, and unready, for what needs a human."""
        if not isinstance(exc, OpusDnsError | PublishError):
            return False
        config = self._config
        self._failures += 1
        error = f"{type(exc).__name__}: {exc}"
        POLL_ERRORS.labels(Source.OPUSDNS.value, _error_kind(exc)).inc()
        if not exc.retriable:
            self._last_error = error
            _log.error("poll failed, not retriable; pausing", account=config.account, error=error)
            return config.error_pause_s
        if self._failures >= config.unready_after_failures:
            self._last_error = error
        _log.warning("poll failed; backing off", account=config.account, error=error, failures=self._failures)
        return True

    async def poll_once(self) -> tuple[str, ...]:
        """Read page 1, publish it, acknowledge its events; return their ids (empty: nothing was pending)."""
        config = self._config
        listing = await self._client.list_events(
            page=1, page_size=config.page_size, sort_by="created_on", sort_order="asc", acknowledged=False
        )
        POLL_BACKLOG.labels(Source.OPUSDNS.value, config.account).set(listing.page.pagination.total_items)
        ids = tuple(dict.fromkeys(i for i in map(_event_id, listing.items) if i is not None))  # a duplicate: acked once
        self._watch_unackable(listing.items, ids)
        if not listing.items:
            return ids
        await self._publish_events(listing.items)
        if not ids:
            return ids
        # A replica that lost its lease while publishing must not acknowledge: the new leader re-reads the page.
        await self._lease.ensure_held()
        await self._acknowledge(ids)
        return ids

    async def _publish_events(self, items: tuple[JsonValue, ...]) -> None:
        """Publish every listed event as its own raw record (one without an id once); all acknowledged, or raise."""
        config = self._config
        sends = []
        fresh: list[str | None] = []  # per send: the fingerprint of an event without event_id, else None
        for item in items:
            body = orjson.dumps(item)
            event_id = _event_id(item)
            fingerprint = None
            if event_id is None:
                fingerprint = hashlib.sha256(orjson.dumps(item, option=orjson.OPT_SORT_KEYS)).hexdigest()
                if fingerprint in self._kept:
                    continue
            sends.append(self._publish(body, event_id))
            fresh.append(fingerprint)
        outcomes = await asyncio.gather(*sends, return_exceptions=True)
        records: list[PublishedRecord] = []
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            records.append(outcome)
        for kept, record in zip(fresh, records, strict=True):
            if kept is None:
                continue
            self._kept[kept] = None
            if len(self._kept) > _KEPT_MEMORY:
                self._kept.popitem(last=False)
            POLL_ERRORS.labels(Source.OPUSDNS.value, "event_without_id").inc()
            _log.error(
                "event without event_id kept as a raw record; it can never be acknowledged",
                account=config.account,
                **record.log_fields,
            )
        _log.info("page published", account=config.account, events=len(sends))

    async def _publish(self, body: bytes, event_id: str | None) -> PublishedRecord:
        try:
            record = await self._publisher.publish(
                body,
                source=Source.OPUSDNS,
                transport=Transport.POLL,
                content_type=_CONTENT_TYPE,
                provider_event_id=event_id,
                provider_event_type=PAGE_EVENT_TYPE,
                account=self._config.account,
            )
        except PublishError as exc:
            INGEST_PUBLISH_FAILED.labels(Source.OPUSDNS.value, Transport.POLL.value).inc()
            _log.warning(
                "raw record not published",
                account=self._config.account,
                ingest_id=exc.ingest_id,
                provider_event_id=event_id,
                error=str(exc),
            )
            raise
        INGEST_PUBLISHED.labels(Source.OPUSDNS.value, Transport.POLL.value).inc()
        # The raw record's ingest id names this event in every later log line until it has a canonical id.
        _log.info("raw record published", account=self._config.account, provider_event_id=event_id, **record.log_fields)
        return record

    def _watch_unackable(self, items: tuple[JsonValue, ...], ids: tuple[str, ...]) -> None:
        """Events without an id stay at the head of the listing; a page full of them blocks the account."""
        if items and not ids and len(items) >= self._config.page_size:
            self._blocked = f"page 1 holds {len(items)} events without event_id; none can be acknowledged"
            _log.error("account blocked", account=self._config.account, reason=self._blocked)
        else:
            self._blocked = None
        POLL_BLOCKED.labels(Source.OPUSDNS.value, self._config.account).set(0 if self._blocked is None else 1)

    async def _acknowledge(self, ids: tuple[str, ...]) -> None:
        limit = asyncio.Semaphore(self._config.ack_concurrency)

        async def acknowledge(event_id: str) -> None:
            async with limit:
                if await self._client.acknowledge(event_id):
                    POLL_ACKED.labels(Source.OPUSDNS.value).inc()

        # Every acknowledgement runs to its end before a failure is raised, so none is left half-way.
        outcomes = await asyncio.gather(*(acknowledge(event_id) for event_id in ids), return_exceptions=True)
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        for extra in failures[1:]:
            _log.warning("acknowledge failed", account=self._config.account, error=f"{type(extra).__name__}: {extra}")
        if failures:
            raise failures[0]


def _error_kind(exc: OpusDnsError | PublishError) -> str:
    """The `kind` label of `regpipe_poll_errors_total`, the same kinds as the OpenSRS poller's."""
    if isinstance(exc, PublishError):
        return "publish"
    if isinstance(exc, OpusDnsAuthError):
        return "auth"
    return "transport" if exc.retriable else "reply"


def _event_id(item: JsonValue) -> str | None:
    value = item.get("event_id") if isinstance(item, dict) else None
    return value if isinstance(value, str) and value else None
