"""What a job becomes after an attempt."""

from __future__ import annotations

from regpipe.delivery.outcome import classify
from regpipe.delivery.schedule import RetrySchedule
from regpipe.delivery.transitions import JobState, next_transition

_SCHEDULE = RetrySchedule.of([0, 5, 60], jitter=0)


def test_delivered() -> None:
    transition = next_transition(1, classify(204), _SCHEDULE)
    assert transition.state is JobState.DELIVERED
    assert transition.outcome == "delivered"


def test_retry_follows_the_schedule_then_dies() -> None:
    assert next_transition(1, classify(500), _SCHEDULE).delay_s == 5
    assert next_transition(2, classify(None), _SCHEDULE).delay_s == 60
    dead = next_transition(3, classify(500), _SCHEDULE)
    assert dead.state is JobState.DEAD
    assert dead.outcome == "dead"


def test_retry_after_pauses_the_endpoint() -> None:
    transition = next_transition(1, classify(429, 30), _SCHEDULE)
    assert transition.state is JobState.PENDING
    assert transition.delay_s == 30
    assert transition.pause_endpoint_s == 30
    assert transition.outcome == "retry"


def test_gone_disables_and_keeps_the_job_waiting() -> None:
    transition = next_transition(3, classify(410), _SCHEDULE)
    assert transition.state is JobState.PENDING  # not dead even on the last attempt: re-enabling delivers it
    assert transition.disable_reason is not None
    assert transition.outcome == "gone"
