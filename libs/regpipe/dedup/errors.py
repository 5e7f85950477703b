"""Errors of the deduplicator stage.

DedupError
├── DedupStageError    Kafka failed during a transaction: the batch is aborted, nothing of it is visible
└── InvalidEventError  a record of the input topic is not a canonical event: it is quarantined, never raised out
"""

from __future__ import annotations

__all__ = ["DedupError", "DedupStageError", "InvalidEventError"]


class DedupError(Exception):
    """Base of the deduplicator's errors."""


class DedupStageError(DedupError):
    """A transaction could not be committed; the stage stops and its batch is re-read by the next owner."""


class InvalidEventError(DedupError):
    """A record that does not decode to a canonical event; its message never quotes the record's contents."""
