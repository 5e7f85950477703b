"""What an attempt's answer means: delivered, retry later, or the endpoint is gone.

Pure: classifies the status code (None when no answer came: timeout, connection error, refused address).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["AttemptVerdict", "Classification", "classify"]

_THROTTLING = frozenset({429, 503})


class AttemptVerdict(StrEnum):
    """The verdict on one attempt."""

    DELIVERED = "delivered"  # 2xx
    RETRY = "retry"  # anything else: retried on the schedule
    GONE = "gone"  # 410: the endpoint is disabled


@dataclass(frozen=True, slots=True)
class Classification:
    """The verdict and, for 429/503, the delay the endpoint asked for."""

    verdict: AttemptVerdict
    retry_after_s: float | None = None


def classify(status_code: int | None, retry_after_s: float | None = None) -> Classification:
    """Classify an answer; `retry_after_s` (parsed from `Retry-After`) is honoured only on 429 and 503."""
    if status_code is not None and 200 <= status_code < 300:
        return Classification(AttemptVerdict.DELIVERED)
    if status_code == 410:
        return Classification(AttemptVerdict.GONE)
    if status_code in _THROTTLING and retry_after_s is not None:
        return Classification(AttemptVerdict.RETRY, retry_after_s)
    return Classification(AttemptVerdict.RETRY)
