"""Cold Mail Reseller's delivery system, simulated. Its retry policy is not documented: the sender assumes the
Standard Webhooks schedule (immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) and a 15 s answer
deadline, scalable so tests run it in milliseconds."""

from __future__ import annotations

import random
from typing import Final

import httpx

from regpipe.simulators.kit.webhook_sender import Misbehaviour, RetrySchedule, SenderAuth, WebhookSender

__all__ = ["ANSWER_DEADLINE_S", "RETRY_SCHEDULE", "create_sender"]

RETRY_SCHEDULE: Final = RetrySchedule(delays_s=(5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0))
ANSWER_DEADLINE_S: Final = 15.0


def create_sender(
    url: str,
    auth: SenderAuth,
    client: httpx.AsyncClient,
    *,
    time_scale: float = 1.0,
    misbehaviour: Misbehaviour | None = None,
    rng: random.Random | None = None,
) -> WebhookSender:
    """A sender to `url` (`…/webhooks/coldmail`) on the assumed schedule, `time_scale` times as long."""
    return WebhookSender(
        url,
        auth=auth,
        schedule=RETRY_SCHEDULE.scaled(time_scale),
        client=client,
        misbehaviour=misbehaviour,
        rng=rng,
        timeout_s=ANSWER_DEADLINE_S,
    )
