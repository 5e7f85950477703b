"""The size of one record as the producer counts it against its `max_request_size` (and, a batch of one, as the
broker counts it against the topic's `max.message.bytes`), so a stage can tell before sending whether it fits."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka.record.default_records import DefaultRecordBatchBuilder

__all__ = ["record_size"]


def record_size(key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> int:
    """The upper bound aiokafka computes for a batch holding only this record."""
    size: int = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, list(headers))
    return size
