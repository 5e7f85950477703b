"""Expiry checkpoints for domains whose provider sends no reminders (pure): which are due, and their events.

The pipeline emits the checkpoints Most documents (30, 7, 6, 5, 4, 3, 2 and 1 days before expiry) as
`domain.expiring` events with transport `pipeline`, so consumers get one kind of reminder whichever provider holds
the domain. A checkpoint is due from `expires_at - N days` until expiry; one missed during downtime is still due
afterwards (caught up), and the store records each (domain, expiry period, checkpoint) once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from regpipe.aggregate.ids import checkpoint_event_id
from regpipe.aggregate.settlement import AGGREGATOR_VERSION
from regpipe.contract import CanonicalEvent, EventType, Outcome, Source, Transport
from regpipe.contract.events import DomainExpiring

__all__ = ["CHECKPOINT_DAYS", "HORIZON", "PROVIDERS_WITH_OWN_REMINDERS", "checkpoint_event", "due_checkpoints"]

#: Days before expiry at which a reminder fires (the schedule Most documents for its own `domain.expiring`).
CHECKPOINT_DAYS: Final = (30, 7, 6, 5, 4, 3, 2, 1)
#: How far ahead of expiry the earliest checkpoint lies.
HORIZON: Final = timedelta(days=max(CHECKPOINT_DAYS))
#: Providers that send their own checkpoints: the pipeline never emits any for their domains.
PROVIDERS_WITH_OWN_REMINDERS: Final = frozenset({Source.MOST})
_DAY = timedelta(days=1)


def due_checkpoints(expires_at: datetime, now: datetime) -> list[tuple[int, datetime]]:
    """(checkpoint, due time) of every checkpoint due at `now`: its time has come and the domain has not expired."""
    if now >= expires_at:
        return []
    return [(days, expires_at - days * _DAY) for days in CHECKPOINT_DAYS if expires_at - days * _DAY <= now]


def checkpoint_event(
    *,
    provider: Source,
    account: str,
    domain: str,
    expires_at: datetime,
    checkpoint: int,
    due_at: datetime,
    now: datetime,
) -> CanonicalEvent:
    """The `domain.expiring` event of one checkpoint; its time is when the checkpoint fell due."""
    return CanonicalEvent(
        id=checkpoint_event_id(provider.value, account, domain, expires_at, checkpoint),
        source=provider,
        type=EventType.DOMAIN_EXPIRING,
        subject=domain,
        time=due_at,
        partition_key=domain,
        outcome=Outcome.NOTIFICATION,
        provider_event_id=None,
        provider_event_type="regpipe.expiry_checkpoint",
        transport=Transport.PIPELINE,
        mapper_version=AGGREGATOR_VERSION,
        data=DomainExpiring(
            domain=domain,
            checkpoint=checkpoint,
            days_left=round((expires_at - now) / _DAY, 4),
            expires_at=expires_at,
        ),
    )
