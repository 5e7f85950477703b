"""The shape of a consumed Kafka record a stage works on, and a plain implementation of it.

aiokafka's `ConsumerRecord` already has this shape, so the shell hands records over without copying them;
`RawRecord` is for records rebuilt by hand (a quarantined record being redriven, a test).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["ConsumedRecord", "RawRecord"]


class ConsumedRecord(Protocol):
    """A record read from a topic: where it sits, and its key, value and headers."""

    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...

    @property
    def key(self) -> bytes | None: ...

    @property
    def value(self) -> bytes | None: ...

    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


@dataclass(frozen=True, slots=True)
class RawRecord:
    """A `ConsumedRecord` built by hand."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]
