"""Errors of the stage shell: Kafka failures that stop a stage before it commits.

    StreamingError
    ├── AckError        Kafka did not acknowledge a record produced for a batch: the batch stays uncommitted
    └── CommitError     Kafka did not take the commit of a batch's offsets: the batch is read again

A bad record is never an error here: each stage turns it into a quarantine record.
"""

from __future__ import annotations

__all__ = ["AckError", "CommitError", "StreamingError"]


class StreamingError(Exception):
    """Base of the stage shell's errors."""

    retriable: bool = False


class CommitError(StreamingError):
    """Kafka did not take a commit of offsets still ours; the batch stays uncommitted and is read again.

    Retriable: a restarted stage resumes from the last committed offsets (at-least-once).
    """

    retriable = True


class AckError(StreamingError):
    """A record produced for a batch was not acknowledged in time; the batch's offsets are not committed.

    Retriable: a restarted stage reads the batch again (at-least-once).
    """

    retriable = True
