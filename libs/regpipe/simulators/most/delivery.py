"""Most's delivery system, simulated: signed webhooks with a 10 s answer deadline, retried immediately, after
1 min, 10 min and 1 h, then FAILED (the schedule scales so tests run it in milliseconds)."""

from __future__ import annotations

from typing import Final

from regpipe.simulators.kit.webhook_sender import DeliveryPolicy, RetrySchedule

__all__ = ["ANSWER_DEADLINE_S", "DELIVERY", "RETRY_SCHEDULE", "create_sender"]

#: After the first attempt: immediately, +1 min, +10 min, +1 h; then the delivery is marked FAILED.
RETRY_SCHEDULE: Final = RetrySchedule(delays_s=(0.0, 60.0, 600.0, 3600.0))
ANSWER_DEADLINE_S: Final = 10.0
DELIVERY: Final = DeliveryPolicy(RETRY_SCHEDULE, ANSWER_DEADLINE_S)
#: A sender to `…/webhooks/most` on Most's schedule (`time_scale` times as long).
create_sender: Final = DELIVERY.create_sender
