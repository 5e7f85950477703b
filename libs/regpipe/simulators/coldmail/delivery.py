"""Cold Mail Reseller's delivery system, simulated. Its retry policy is not documented: the sender assumes the
Standard Webhooks schedule (immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) and a 15 s answer
deadline, scalable so tests run it in milliseconds."""

from __future__ import annotations

from typing import Final

from regpipe.simulators.kit.webhook_sender import DeliveryPolicy, RetrySchedule

__all__ = ["ANSWER_DEADLINE_S", "DELIVERY", "RETRY_SCHEDULE", "create_sender"]

RETRY_SCHEDULE: Final = RetrySchedule(delays_s=(5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0))
ANSWER_DEADLINE_S: Final = 15.0
DELIVERY: Final = DeliveryPolicy(RETRY_SCHEDULE, ANSWER_DEADLINE_S)
#: A sender to `…/webhooks/coldmail` on the assumed schedule (`time_scale` times as long).
create_sender: Final = DELIVERY.create_sender
