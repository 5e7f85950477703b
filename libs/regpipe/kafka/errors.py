"""Errors of the Kafka plumbing.

KafkaPlumbingError
├── TopicDriftError     an existing topic differs from the registry
└── PublishError        the broker did not acknowledge a record (retriable: the caller may try again)
"""

from __future__ import annotations


class KafkaPlumbingError(Exception):
    """Base of the Kafka plumbing errors."""

    retriable: bool = False


class TopicDriftError(KafkaPlumbingError):
    """An existing topic's partitions or config differ from the registry."""


class PublishError(KafkaPlumbingError):
    """The broker did not acknowledge a record in time."""

    retriable = True
    ingest_id: str | None = None  # the raw record's id, for the log line about it
