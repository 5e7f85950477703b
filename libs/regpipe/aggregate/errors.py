"""Errors of the aggregator.

AggregateError
├── StoreUnavailableError   PostgreSQL cannot be reached or failed mid-transaction (retriable: nothing committed)
└── RelayError              Kafka did not acknowledge outbox records (retriable: they stay unsent and go again)
"""

from __future__ import annotations

__all__ = ["AggregateError", "RelayError", "StoreUnavailableError"]


class AggregateError(Exception):
    """Base of the aggregator's errors."""

    retriable = False


class StoreUnavailableError(AggregateError):
    """PostgreSQL is unreachable or the transaction failed; nothing of it was committed, so retry the same input."""

    retriable = True


class RelayError(AggregateError):
    """The outbox could not be published; its rows stay unsent and are published again."""

    retriable = True
