"""Most's delivery system, simulated: signed webhooks with a 10 s answer deadline, retried immediately, after
1 min, 10 min and 1 h, then FAILED (the schedule scales so tests run it in milliseconds)."""

from __future__ import annotations

import random
from typing import Final

import httpx

from regpipe.simulators.kit.webhook_sender import Misbehaviour, RetrySchedule, SenderAuth, WebhookSender

__all__ = ["ANSWER_DEADLINE_S", "RETRY_SCHEDULE", "create_sender"]

#: After the first attempt: immediately, +1 min, +10 min, +1 h; then the delivery is marked FAILED.
RETRY_SCHEDULE: Final = RetrySchedule(delays_s=(0.0, 60.0, 600.0, 3600.0))
ANSWER_DEADLINE_S: Final = 10.0


def create_sender(
    url: str,
    auth: SenderAuth,
    client: httpx.AsyncClient,
    *,
    time_scale: float = 1.0,
    misbehaviour: Misbehaviour | None = None,
    rng: random.Random | None = None,
) -> WebhookSender:
    """A sender to `url` (`…/webhooks/most`) that retries on Most's schedule, `time_scale` times as long."""
    return WebhookSender(
        url,
        auth=auth,
        schedule=RETRY_SCHEDULE.scaled(time_scale),
        client=client,
        misbehaviour=misbehaviour,
        rng=rng,
        timeout_s=ANSWER_DEADLINE_S,
    )
