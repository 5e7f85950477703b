"""Retry schedule: default delays, jitter bounds, exhaustion, Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from regpipe.delivery.schedule import DEFAULT_SCHEDULE_S, RetrySchedule, parse_retry_after


def _no_jitter(low: float, high: float) -> float:
    return 1.0


def test_default_schedule_is_the_established_one() -> None:
    assert list(DEFAULT_SCHEDULE_S) == [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
    schedule = RetrySchedule()
    assert schedule.max_attempts == 8
    delays = [schedule.next_delay(n, uniform=_no_jitter) for n in range(1, 8)]
    assert delays == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert schedule.next_delay(8) is None  # eight attempts made: exhausted


def test_jitter_stays_within_its_bounds() -> None:
    schedule = RetrySchedule(jitter=0.2)
    seen = {schedule.next_delay(2) for _ in range(200)}
    assert all(d is not None and 240 <= d <= 360 for d in seen)
    assert len(seen) > 1
    assert schedule.next_delay(2, uniform=lambda low, high: low) == pytest.approx(240)
    assert schedule.next_delay(2, uniform=lambda low, high: high) == pytest.approx(360)


def test_configurable_schedule() -> None:
    schedule = RetrySchedule.of([0, 0.1, 0.2], jitter=0)
    assert [schedule.next_delay(n) for n in (1, 2, 3)] == [0.1, 0.2, None]


def test_retry_after_replaces_the_delay_but_counts() -> None:
    schedule = RetrySchedule()
    assert schedule.next_delay(1, retry_after_s=42) == 42
    assert schedule.next_delay(1, retry_after_s=10**9) == schedule.max_retry_after_s
    assert schedule.next_delay(8, retry_after_s=1) is None


def test_invalid_schedules_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        RetrySchedule(())
    with pytest.raises(ValueError, match="jitter"):
        RetrySchedule(jitter=1.5)


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
