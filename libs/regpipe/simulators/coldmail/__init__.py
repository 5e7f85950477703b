"""Cold Mail Reseller, simulated: realistic webhook events (`events`) and its delivery system (`delivery`)."""

from regpipe.simulators.coldmail.delivery import ANSWER_DEADLINE_S, DELIVERY, RETRY_SCHEDULE, create_sender
from regpipe.simulators.coldmail.events import VARIANTS, build_event, generate

__all__ = ["ANSWER_DEADLINE_S", "DELIVERY", "RETRY_SCHEDULE", "VARIANTS", "build_event", "create_sender", "generate"]
