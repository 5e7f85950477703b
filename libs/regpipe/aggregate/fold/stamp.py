"""Provider-time stamps and last-writer-wins registers: the merge rule that makes every fold order-independent.

A register keeps the value of the event with the greatest (provider time, event id); folding events in any order,
any number of times, leaves the same value, and an older event never overwrites a newer one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict

from regpipe.contract import CanonicalEvent

__all__ = ["Register", "Stamp", "later", "stamp_of"]

T = TypeVar("T")


class Stamp(BaseModel):
    """When an event happened at the provider, and its id (the tie-breaker of two events at the same instant)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    time: AwareDatetime
    event_id: str

    @property
    def key(self) -> tuple[datetime, str]:
        """The total order of stamps."""
        return (self.time, self.event_id)


def stamp_of(event: CanonicalEvent) -> Stamp:
    """The stamp of a canonical event."""
    return Stamp(time=event.time, event_id=str(event.id))


class Register(BaseModel, Generic[T]):
    """A value and the stamp of the event that set it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: T
    at: Stamp


def later(current: Register[T] | None, candidate: Register[T]) -> Register[T]:
    """The register of the later event (last writer wins by provider time)."""
    if current is None or candidate.at.key > current.at.key:
        return candidate
    return current
