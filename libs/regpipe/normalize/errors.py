"""Errors of the normalizer stage: infrastructure failures that stop it before it commits.

A bad record is never an error here: it becomes a quarantine record (see `regpipe.normalize.processor`).
"""

from __future__ import annotations

__all__ = ["NormalizeError", "StageError"]


class NormalizeError(Exception):
    """Base of the normalizer's errors."""

    retriable: bool = False


class StageError(NormalizeError):
    """Kafka did not acknowledge a produced record or refused a commit: the stage stops with the batch uncommitted.

    Retriable: a restarted stage re-reads the uncommitted batch (at-least-once).
    """

    retriable = True
