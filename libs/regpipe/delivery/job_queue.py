"""The job table as a queue: claim due jobs under a lease, record an attempt's outcome, release, DLQ outbox.

Claims use `FOR UPDATE SKIP LOCKED`, so replicas never claim the same job at once; a claimed job carries a lease
(`lease_until`), and a job whose lease expired (its replica died) is claimable again. An outcome is recorded only
by the lease owner, in one statement with its attempt row and the endpoint's health.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from regpipe.contract.errors import SealError
from regpipe.contract.sealing import RawSealer
from regpipe.delivery.attempt import AttemptResult
from regpipe.delivery.signing import NO_SEALING, SigningSecret, open_secret
from regpipe.delivery.transitions import Transition
from regpipe.observability.logging import get_logger

__all__ = ["ClaimedJob", "DeadLetter", "JobQueue", "RecordedOutcome"]

_log = get_logger(__name__)

_CLAIM = """
WITH capacity AS (SELECT * FROM unnest($1::uuid[], $2::int[]) AS c(subscription_id, free)),
picked AS (
    SELECT job.id
    FROM capacity c
    JOIN delivery_subscriptions s ON s.id = c.subscription_id AND s.enabled
        -- an endpoint paused by its Retry-After is skipped before any of its jobs is locked
        AND NOT EXISTS (SELECT 1 FROM delivery_endpoint_health h
                        WHERE h.subscription_id = s.id AND h.paused_until > now())
    CROSS JOIN LATERAL (
        SELECT j.id FROM delivery_jobs j
        WHERE j.subscription_id = c.subscription_id
          AND ((j.state = 'pending' AND j.next_attempt_at <= now()) OR (j.state = 'sending' AND j.lease_until < now()))
          AND (NOT s.ordered OR NOT EXISTS (
                SELECT 1 FROM delivery_jobs o
                WHERE o.subscription_id = j.subscription_id AND o.partition_key = j.partition_key
                  AND o.state IN ('pending', 'sending') AND o.id < j.id))
        ORDER BY j.next_attempt_at, j.id
        LIMIT c.free
        FOR UPDATE OF j SKIP LOCKED
    ) job
),
claimed AS (
    UPDATE delivery_jobs j
    SET state = 'sending', lease_owner = $3, lease_until = now() + make_interval(secs => $4), updated_at = now()
    FROM picked WHERE j.id = picked.id
    RETURNING j.id, j.subscription_id, j.event_id, j.attempts
)
SELECT c.id, c.subscription_id, c.event_id, c.attempts, s.url, e.body,
       array_agg(k.secret ORDER BY k.created_at DESC) FILTER (WHERE k.secret IS NOT NULL) AS secrets,
       array_agg(k.created_at ORDER BY k.created_at DESC) FILTER (WHERE k.secret IS NOT NULL) AS secrets_created,
       array_agg(k.expires_at ORDER BY k.created_at DESC) FILTER (WHERE k.secret IS NOT NULL) AS secrets_expire,
       array_agg(k.seal_kid ORDER BY k.created_at DESC) FILTER (WHERE k.secret IS NOT NULL) AS secrets_kid
FROM claimed c
JOIN delivery_subscriptions s ON s.id = c.subscription_id
JOIN delivery_events e ON e.event_id = c.event_id
LEFT JOIN delivery_secrets k ON k.subscription_id = c.subscription_id
GROUP BY c.id, c.subscription_id, c.event_id, c.attempts, s.url, e.body
"""

_RECORD = """
WITH attempt AS (
    INSERT INTO delivery_attempts (job_id, subscription_id, event_id, attempted_at, outcome, status_code,
                                   latency_ms, error, response_body, sent_by)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $12)
),
job AS (
    UPDATE delivery_jobs
    SET state = $10, attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $11),
        lease_owner = NULL, lease_until = NULL, last_status = $6, last_error = $8, updated_at = now()
    WHERE id = $1 AND lease_owner = $12 AND state = 'sending'
    RETURNING id
),
health AS (
    INSERT INTO delivery_endpoint_health AS h (subscription_id, last_success_at, last_failure_at, failing_since,
                                              consecutive_failures, paused_until)
    VALUES ($2, CASE WHEN $13 THEN now() END, CASE WHEN $13 THEN NULL ELSE now() END,
            CASE WHEN $13 THEN NULL ELSE now() END, CASE WHEN $13 THEN 0 ELSE 1 END,
            now() + make_interval(secs => $14))
    ON CONFLICT (subscription_id) DO UPDATE SET
        last_success_at = CASE WHEN $13 THEN now() ELSE h.last_success_at END,
        last_failure_at = CASE WHEN $13 THEN h.last_failure_at ELSE now() END,
        failing_since = CASE WHEN $13 THEN NULL ELSE coalesce(h.failing_since, now()) END,
        consecutive_failures = CASE WHEN $13 THEN 0 ELSE h.consecutive_failures + 1 END,
        paused_until = CASE WHEN $14::float8 IS NULL THEN h.paused_until ELSE now() + make_interval(secs => $14) END
    RETURNING failing_since
)
SELECT (SELECT count(*) FROM job) AS updated, (SELECT failing_since FROM health) AS failing_since
"""


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job this replica holds the lease of, with what sending it needs."""

    job_id: int
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    attempts: int  # made before this one
    url: str
    body: bytes
    secrets: tuple[SigningSecret, ...]


@dataclass(frozen=True, slots=True)
class RecordedOutcome:
    """Whether this replica still held the lease, and since when the endpoint fails (None: it does not)."""

    owned: bool
    failing_since: datetime | None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A dead job not yet on the DLQ topic."""

    job_id: int
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    attempts: int
    last_status: int | None
    last_error: str | None
    body: bytes


def _claimed(row: asyncpg.Record, sealer: RawSealer) -> ClaimedJob:
    secrets: list[SigningSecret] = []
    for stored, created, expires, key_id in zip(
        row["secrets"] or (),
        row["secrets_created"] or (),
        row["secrets_expire"] or (),
        row["secrets_kid"] or (),
        strict=True,
    ):
        try:
            secrets.append(SigningSecret(open_secret(sealer, stored, key_id), created, expires))
        except SealError as exc:
            # Without this secret the request is signed by the others (or, with none, fails and is retried).
            _log.error("a signing secret does not open", subscription_id=str(row["subscription_id"]), error=str(exc))
    return ClaimedJob(
        row["id"], row["subscription_id"], row["event_id"], row["attempts"], row["url"], row["body"], tuple(secrets)
    )


class JobQueue:
    """The dispatcher's SQL, owned by one replica (`owner` names its leases)."""

    def __init__(self, pool: asyncpg.Pool, owner: str, lease_s: float, sealer: RawSealer = NO_SEALING) -> None:
        self._pool = pool
        self.owner = owner
        self._lease_s = lease_s
        self._sealer = sealer

    async def claim(self, capacity: dict[uuid.UUID, int]) -> list[ClaimedJob]:
        """Claim up to `capacity[endpoint]` due jobs of each endpoint (enabled, not paused)."""
        wanted = [(sid, free) for sid, free in capacity.items() if free > 0]
        if not wanted:
            return []
        rows = await self._pool.fetch(_CLAIM, [w[0] for w in wanted], [w[1] for w in wanted], self.owner, self._lease_s)
        return [_claimed(row, self._sealer) for row in rows]

    async def record(self, job: ClaimedJob, result: AttemptResult, transition: Transition) -> RecordedOutcome:
        """The attempt, the job's next state and the endpoint's health, in one statement."""
        success = transition.outcome == "delivered"
        row = await self._pool.fetchrow(
            _RECORD,
            job.job_id,
            job.subscription_id,
            job.event_id,
            result.attempted_at,
            transition.outcome,
            result.status_code,
            result.latency_ms,
            result.error,
            result.response_body,
            transition.state.value,
            transition.delay_s,
            self.owner,
            success,
            transition.pause_endpoint_s,
        )
        assert row is not None  # the statement always returns one row
        return RecordedOutcome(owned=row["updated"] == 1, failing_since=row["failing_since"])

    async def disable(self, subscription_id: uuid.UUID, kind: str, reason: str) -> bool:
        """Disable an endpoint and write the operator event; False if it was disabled already."""
        async with self._pool.acquire() as connection, connection.transaction():
            changed = await connection.fetchval(
                """UPDATE delivery_subscriptions SET enabled = false, disabled_reason = $2, updated_at = now()
                   WHERE id = $1 AND enabled RETURNING id""",
                subscription_id,
                reason,
            )
            if changed is None:
                return False
            await connection.execute(
                "INSERT INTO delivery_operator_events (subscription_id, kind, reason) VALUES ($1, $2, $3)",
                subscription_id,
                kind,
                reason,
            )
            return True

    async def release(self) -> int:
        """Give back every job this replica still leases (graceful shutdown): pending again, due now."""
        status: str = await self._pool.execute(
            """UPDATE delivery_jobs SET state = 'pending', lease_owner = NULL, lease_until = NULL, updated_at = now()
               WHERE lease_owner = $1 AND state = 'sending'""",
            self.owner,
        )
        return int(status.rsplit(" ", 1)[1])

    async def endpoints(self) -> list[asyncpg.Record]:
        """Enabled endpoints with their limits."""
        return await self._pool.fetch(
            "SELECT id, max_concurrency, rate_limit_per_s FROM delivery_subscriptions WHERE enabled"
        )

    async def unpublished_dead(self, limit: int = 100) -> list[DeadLetter]:
        """Dead jobs not yet on the DLQ topic (the outbox)."""
        rows = await self._pool.fetch(
            """SELECT j.id, j.subscription_id, j.event_id, j.attempts, j.last_status, j.last_error, e.body
               FROM delivery_jobs j JOIN delivery_events e ON e.event_id = j.event_id
               WHERE j.state = 'dead' AND j.dlq_published_at IS NULL ORDER BY j.id LIMIT $1""",
            limit,
        )
        return [DeadLetter(*row.values()) for row in rows]

    async def mark_published(self, job_ids: list[int]) -> None:
        """The DLQ topic acknowledged these dead jobs."""
        await self._pool.execute(
            "UPDATE delivery_jobs SET dlq_published_at = now() WHERE id = ANY($1::bigint[]) AND state = 'dead'",
            job_ids,
        )

    @staticmethod
    def failing_too_long(failing_since: datetime | None, now: datetime, disable_after_s: float) -> bool:
        """True when the endpoint has failed without a success for longer than `disable_after_s`."""
        return failing_since is not None and now - failing_since >= timedelta(seconds=disable_after_s)
