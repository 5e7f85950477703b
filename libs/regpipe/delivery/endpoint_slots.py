"""Per-endpoint capacity of one replica: concurrency slots and a token-bucket rate limit.

Pure (the clock is passed in). The dispatcher claims at most `free(...)` jobs of an endpoint, so a slow or
throttled endpoint fills its own slots and never the others'.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

__all__ = ["EndpointSlots", "TokenBucket"]


@dataclass
class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up (one second's worth, at least one)."""

    rate: float
    tokens: float = 1.0
    updated: float = 0.0

    @property
    def burst(self) -> float:
        """How many tokens the bucket holds at most."""
        return max(self.rate, 1.0)

    def available(self, now: float) -> int:
        """Whole tokens available at `now`."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return int(self.tokens)

    def take(self, count: int) -> None:
        """Spend `count` tokens (after `available` said they are there)."""
        self.tokens -= count


@dataclass
class EndpointSlots:
    """In-flight requests and rate-limit buckets per endpoint."""

    in_flight: dict[uuid.UUID, int] = field(default_factory=dict)
    buckets: dict[uuid.UUID, TokenBucket] = field(default_factory=dict)

    def free(self, endpoint: uuid.UUID, max_concurrency: int, rate_limit_per_s: float | None, now: float) -> int:
        """How many more requests the endpoint may get now."""
        free = max_concurrency - self.in_flight.get(endpoint, 0)
        if rate_limit_per_s is not None and free > 0:
            bucket = self.buckets.get(endpoint)
            if bucket is None or bucket.rate != rate_limit_per_s:
                bucket = self.buckets[endpoint] = TokenBucket(rate_limit_per_s, updated=now)
            free = min(free, bucket.available(now))
        return max(free, 0)

    def started(self, endpoint: uuid.UUID, count: int = 1) -> None:
        """`count` requests to the endpoint began (their tokens are spent)."""
        self.in_flight[endpoint] = self.in_flight.get(endpoint, 0) + count
        bucket = self.buckets.get(endpoint)
        if bucket is not None:
            bucket.take(count)

    def finished(self, endpoint: uuid.UUID) -> None:
        """One request to the endpoint ended."""
        left = self.in_flight.get(endpoint, 0) - 1
        if left > 0:
            self.in_flight[endpoint] = left
        else:
            self.in_flight.pop(endpoint, None)

    @property
    def total(self) -> int:
        """Requests in flight to all endpoints."""
        return sum(self.in_flight.values())
