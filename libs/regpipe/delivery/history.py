"""Queries on what happened: attempts per endpoint or per event, the dead-letter list, operator events."""

from __future__ import annotations

import uuid

import asyncpg

from regpipe.delivery.models import AttemptRecord, DeadJob, OperatorEvent

__all__ = ["list_attempts", "list_dead", "list_operator_events"]

_MAX_LIMIT = 1000


def _limit(limit: int) -> int:
    return max(1, min(limit, _MAX_LIMIT))


async def list_attempts(
    pool: asyncpg.Pool,
    *,
    subscription_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    limit: int = 100,
) -> list[AttemptRecord]:
    """The latest attempts of one endpoint and/or one event, newest first."""
    rows = await pool.fetch(
        """SELECT * FROM delivery_attempts
           WHERE ($1::uuid IS NULL OR subscription_id = $1) AND ($2::uuid IS NULL OR event_id = $2)
           ORDER BY attempted_at DESC, id DESC LIMIT $3""",
        subscription_id,
        event_id,
        _limit(limit),
    )
    return [AttemptRecord.model_validate(dict(row)) for row in rows]


async def list_dead(pool: asyncpg.Pool, *, subscription_id: uuid.UUID | None = None, limit: int = 100) -> list[DeadJob]:
    """Deliveries that exhausted their schedule, newest first."""
    rows = await pool.fetch(
        """SELECT j.id AS job_id, j.subscription_id, j.event_id, e.event_type, j.attempts, j.last_status,
                  j.last_error, j.updated_at AS died_at, j.dlq_published_at IS NOT NULL AS published_to_topic
           FROM delivery_jobs j JOIN delivery_events e ON e.event_id = j.event_id
           WHERE j.state = 'dead' AND ($1::uuid IS NULL OR j.subscription_id = $1)
           ORDER BY j.updated_at DESC, j.id DESC LIMIT $2""",
        subscription_id,
        _limit(limit),
    )
    return [DeadJob.model_validate(dict(row)) for row in rows]


async def list_operator_events(pool: asyncpg.Pool, *, limit: int = 100) -> list[OperatorEvent]:
    """Endpoints disabled automatically, and why, newest first."""
    rows = await pool.fetch("SELECT * FROM delivery_operator_events ORDER BY at DESC, id DESC LIMIT $1", _limit(limit))
    return [OperatorEvent.model_validate(dict(row)) for row in rows]
