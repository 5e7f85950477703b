"""What a job becomes after an attempt: delivered, pending again (when), or dead; and whether the endpoint is
paused (`Retry-After`) or disabled (410). Pure."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from regpipe.delivery.outcome import AttemptVerdict, Classification
from regpipe.delivery.schedule import RetrySchedule

__all__ = ["JobState", "Transition", "next_transition"]


class JobState(StrEnum):
    """The states of a job row (`delivery_jobs.state`)."""

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Transition:
    """The job's next state; `delay_s` until the next attempt when pending."""

    state: JobState
    delay_s: float = 0.0
    pause_endpoint_s: float | None = None
    disable_reason: str | None = None

    @property
    def outcome(self) -> str:
        """The attempt's outcome as recorded: delivered, retry, gone or dead."""
        if self.disable_reason is not None:
            return "gone"
        return {JobState.DELIVERED: "delivered", JobState.DEAD: "dead"}.get(self.state, "retry")


def next_transition(
    attempts_made: int,
    classification: Classification,
    schedule: RetrySchedule,
    uniform: Callable[[float, float], float] = random.uniform,
) -> Transition:
    """The transition after the `attempts_made`-th attempt (this one included) was classified."""
    if classification.verdict is AttemptVerdict.DELIVERED:
        return Transition(JobState.DELIVERED)
    if classification.verdict is AttemptVerdict.GONE:
        # The job waits (pending) while the endpoint is disabled; re-enabling it delivers the job.
        return Transition(JobState.PENDING, disable_reason="the endpoint answered 410 Gone")
    delay = schedule.next_delay(attempts_made, classification.retry_after_s, uniform)
    if delay is None:
        return Transition(JobState.DEAD)
    return Transition(JobState.PENDING, delay_s=delay, pause_endpoint_s=classification.retry_after_s)
