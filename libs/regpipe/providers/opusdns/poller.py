"""The OpusDNS poller for one account: read the oldest unacknowledged events, publish the page to the raw topic,
and only then acknowledge each event of it.

Guarantee: at-least-once into `registrar.raw.v1`. An event is acknowledged only after the page holding it was
acknowledged by Kafka, so a crash at any point means the page is read (and published) again, never lost.

Paging: acknowledging removes events from the `acknowledged=false` listing, so pages 2, 3, ... shift under a
reader that walks them and events get skipped. The poller therefore only ever reads page 1, oldest first, and
reads it again at once while it is non-empty; it waits the poll interval only when page 1 comes back empty.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol

from regpipe.contract.taxonomy import Source, Transport
from regpipe.ingest.publisher import PublishedRecord
from regpipe.kafka.errors import PublishError
from regpipe.leadership.lease import LeaseLostError
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import (
    INGEST_PUBLISH_FAILED,
    INGEST_PUBLISHED,
    POLL_ACKED,
    POLL_BACKLOG,
    POLL_LAST_SUCCESS,
)
from regpipe.providers.opusdns.client import OpusDnsClient
from regpipe.providers.opusdns.errors import OpusDnsError

__all__ = ["PAGE_EVENT_TYPE", "Lease", "OpusDnsPoller", "PollerConfig", "Publisher", "lease_name"]

_log = get_logger(__name__)

#: `provider-event-type` header of a raw record holding one whole listing page.
PAGE_EVENT_TYPE = "events.page"
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


class Lease(Protocol):
    """What the poller needs of `regpipe.leadership.AdvisoryLease`."""

    async def acquire(self) -> bool: ...

    async def ensure_held(self) -> None: ...

    async def release(self) -> None: ...


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
        self._last_error: str | None = None
        self._previous_ids: tuple[str, ...] = ()

    def not_ready_reason(self) -> str | None:
        """None while polling works (or this replica is standing by); else why polling keeps failing."""
        return self._last_error

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set.

        Stopping cancels whatever step is in flight. That is safe at every step: nothing is acknowledged before
        its page is on Kafka, so an abandoned step only means the page is read and published again.
        """
        await _cancel_on(stop, self._run())

    async def _run(self) -> None:
        while True:
            if not await self._lease.acquire():
                return
            try:
                await self._lead()
            except LeaseLostError as exc:
                # Another replica may already be polling: stop at once, then queue up for the lease again.
                _log.warning("lease lost; stopped polling", account=self._config.account, error=str(exc))
            finally:
                await self._lease.release()

    async def _lead(self) -> None:
        config = self._config
        _log.info("polling as leader", account=config.account, page_size=config.page_size)
        failures = 0
        while True:
            await self._lease.ensure_held()
            try:
                ids = await self.poll_once()
            except (OpusDnsError, PublishError) as exc:
                failures += 1
                error = f"{type(exc).__name__}: {exc}"
                if not exc.retriable:
                    self._last_error = error
                    _log.error("poll failed, not retriable; pausing", account=config.account, error=error)
                    await asyncio.sleep(config.error_pause_s)
                    continue
                if failures >= config.unready_after_failures:
                    self._last_error = error
                delay = _backoff_s(failures, config.error_backoff_initial_s, config.error_backoff_max_s)
                _log.warning("poll failed; backing off", account=config.account, error=error, delay_s=delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
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

    async def poll_once(self) -> tuple[str, ...]:
        """Read page 1, publish it, acknowledge its events; return their ids (empty: nothing was pending)."""
        config = self._config
        listing = await self._client.list_events(
            page=1, page_size=config.page_size, sort_by="created_on", sort_order="asc", acknowledged=False
        )
        POLL_BACKLOG.labels(Source.OPUSDNS.value, config.account).set(listing.page.pagination.total_items)
        ids = tuple(dict.fromkeys(event.event_id for event in listing.page.results))  # a duplicate is acked once
        if not ids:
            return ids
        try:
            record = await self._publisher.publish(
                listing.body,
                source=Source.OPUSDNS,
                transport=Transport.POLL,
                content_type=_CONTENT_TYPE,
                provider_event_id=ids[0] if len(listing.page.results) == 1 else None,
                provider_event_type=PAGE_EVENT_TYPE,
                account=config.account,
            )
        except PublishError:
            INGEST_PUBLISH_FAILED.labels(Source.OPUSDNS.value, Transport.POLL.value).inc()
            raise
        INGEST_PUBLISHED.labels(Source.OPUSDNS.value, Transport.POLL.value).inc()
        _log.info("page published", account=config.account, events=len(ids), key=record.key, offset=record.offset)
        # A replica that lost its lease while publishing must not acknowledge: the new leader re-reads the page.
        await self._lease.ensure_held()
        await self._acknowledge(ids)
        return ids

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


def _backoff_s(failures: int, initial_s: float, max_s: float) -> float:
    """Capped exponential backoff with full jitter over its upper half, so replicas of many accounts spread out."""
    ceiling = min(max_s, initial_s * 2.0 ** (failures - 1))
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 -- jitter, not a secret


async def _cancel_on(stop: asyncio.Event, work: Awaitable[None]) -> None:
    """Await `work`, cancelling it as soon as `stop` is set; re-raise whatever it raised itself."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        task.cancel()
        await asyncio.wait({task})
    if not task.cancelled():
        task.result()
