"""Intake: canonical events from `registrar.events.v1` become delivery jobs in PostgreSQL.

Guarantee: at-least-once into the job table, effectively-once per (subscription, event): a batch's events and
jobs are stored in one transaction (`ON CONFLICT DO NOTHING`) before its offsets are committed, so a crash
re-reads and re-stores the batch without creating a second job. Matching is pure (`plan_jobs`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import asyncpg
import orjson

from regpipe.contract import CanonicalEvent
from regpipe.delivery.filters import EventFilter
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import DELIVERY_JOBS_CREATED, DELIVERY_SKIPPED

__all__ = ["Intake", "PlannedJobs", "Route", "event_body", "plan_jobs"]

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Route:
    """An enabled subscription's id and filter."""

    subscription_id: uuid.UUID
    filter: EventFilter


@dataclass(frozen=True, slots=True)
class PlannedJobs:
    """The events some subscription wants (stored once each) and the (subscription, event) jobs."""

    events: list[CanonicalEvent]
    jobs: list[tuple[uuid.UUID, uuid.UUID, str]]  # subscription id, event id, partition key


def event_body(event: CanonicalEvent) -> bytes:
    """The webhook body: the canonical event as structured CloudEvents JSON (`data` inline)."""
    return orjson.dumps(event.model_dump(mode="json", exclude_none=True))


def plan_jobs(events: Iterable[CanonicalEvent], routes: Sequence[Route]) -> PlannedJobs:
    """Match each event against each route."""
    kept: list[CanonicalEvent] = []
    jobs: list[tuple[uuid.UUID, uuid.UUID, str]] = []
    for event in events:
        matched = [
            r.subscription_id for r in routes if r.filter.matches(event.type.value, event.source.value, event.subject)
        ]
        if matched:
            kept.append(event)
            jobs.extend((sid, event.id, event.partition_key) for sid in matched)
    return PlannedJobs(kept, jobs)


class Intake:
    """Stores the jobs of a batch of events; the routes are re-read from PostgreSQL at most every `refresh_s`."""

    def __init__(self, pool: asyncpg.Pool, *, refresh_s: float = 1.0) -> None:
        self._pool = pool
        self._refresh_s = refresh_s
        self._routes: list[Route] = []
        self._loaded_at = -float("inf")

    async def routes(self) -> list[Route]:
        """The enabled subscriptions' filters (cached for `refresh_s`)."""
        if time.monotonic() - self._loaded_at >= self._refresh_s:
            rows = await self._pool.fetch(
                "SELECT id, event_types, sources, domain_suffixes FROM delivery_subscriptions WHERE enabled"
            )
            # Stored filters were validated on the way in; parsing again only rebuilds the matcher.
            self._routes = [
                Route(row["id"], EventFilter.parse(row["event_types"], row["sources"], row["domain_suffixes"]))
                for row in rows
            ]
            self._loaded_at = time.monotonic()
        return self._routes

    async def store(self, events: Sequence[CanonicalEvent]) -> int:
        """Store the events some subscription wants and their jobs, in one transaction; returns new jobs.

        If PostgreSQL refuses the batch's data (e.g. a NUL character a text column cannot hold), each event is
        stored on its own and the ones refused are skipped with a log line and a metric, so one record never
        stops the intake. Connection errors propagate: the batch is then read again.
        """
        plan = plan_jobs(events, await self.routes())
        if not plan.jobs:
            return 0
        try:
            return await self._store(plan)
        except asyncpg.DataError:
            created = 0
            for event in plan.events:
                single = PlannedJobs([event], [job for job in plan.jobs if job[1] == event.id])
                try:
                    created += await self._store(single)
                except asyncpg.DataError as exc:
                    DELIVERY_SKIPPED.labels("unstorable").inc()
                    _log.warning("skipping an event PostgreSQL refused", event_id=str(event.id), reason=str(exc)[:300])
            return created

    async def _store(self, plan: PlannedJobs) -> int:
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.executemany(
                """INSERT INTO delivery_events (event_id, event_type, source, subject, partition_key, event_time, body)
                   VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING""",
                [
                    (e.id, e.type.value, e.source.value, e.subject, e.partition_key, e.time, event_body(e))
                    for e in plan.events
                ],
            )
            status: str = await connection.execute(
                """INSERT INTO delivery_jobs (subscription_id, event_id, partition_key)
                   SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])
                   ON CONFLICT (subscription_id, event_id) DO NOTHING""",
                [j[0] for j in plan.jobs],
                [j[1] for j in plan.jobs],
                [j[2] for j in plan.jobs],
            )
            await connection.execute("SELECT pg_notify('delivery_jobs', '')")
        created = int(status.rsplit(" ", 1)[1])
        DELIVERY_JOBS_CREATED.inc(created)
        return created
