"""When to try a delivery again: the retry schedule, its jitter, and `Retry-After`.

Pure: the random source and the clock are passed in, so the schedule is tested exactly.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

__all__ = ["DEFAULT_SCHEDULE_S", "RetrySchedule", "parse_retry_after"]

#: Delay before each attempt, the first one included: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_SCHEDULE_S: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """`delays_s[n]` is the wait before attempt n+1; once they are used up the job is exhausted (dead)."""

    delays_s: tuple[float, ...] = DEFAULT_SCHEDULE_S
    jitter: float = 0.2  # each delay is scaled by a uniform factor in [1 - jitter, 1 + jitter]
    max_retry_after_s: float = 86_400.0

    def __post_init__(self) -> None:
        if not self.delays_s or any(d < 0 for d in self.delays_s):
            raise ValueError("a retry schedule needs at least one delay, none negative")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")

    @classmethod
    def of(cls, delays_s: Sequence[float], jitter: float = 0.2) -> RetrySchedule:
        """A schedule from a list of delays."""
        return cls(tuple(float(d) for d in delays_s), jitter)

    @property
    def max_attempts(self) -> int:
        """How many attempts a job gets before it is dead."""
        return len(self.delays_s)

    def next_delay(
        self,
        attempts_made: int,
        retry_after_s: float | None = None,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> float | None:
        """Seconds to wait after the `attempts_made`-th failed attempt; None when the job is exhausted.

        A `Retry-After` the endpoint sent replaces the scheduled delay (capped at `max_retry_after_s`): the
        endpoint knows best when it can take more. It still counts as an attempt, so a endpoint that always
        answers 429 ends in the dead-letter queue too.
        """
        if attempts_made >= len(self.delays_s):
            return None
        if retry_after_s is not None:
            return min(max(retry_after_s, 0.0), self.max_retry_after_s)
        base = self.delays_s[attempts_made]
        if not self.jitter or not base:
            return base
        return base * uniform(1 - self.jitter, 1 + self.jitter)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date); None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - now).total_seconds(), 0.0)
