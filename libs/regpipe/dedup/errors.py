"""Errors of the deduplicator stage.

DedupError
└── DedupStageError    Kafka failed during a transaction: the batch is aborted, nothing of it is visible
"""

from __future__ import annotations

__all__ = ["DedupError", "DedupStageError"]


class DedupError(Exception):
    """Base of the deduplicator's errors."""


class DedupStageError(DedupError):
    """A transaction could not be committed; the stage stops and its batch is re-read by the next owner."""
