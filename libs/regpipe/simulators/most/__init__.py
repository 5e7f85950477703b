"""Most, simulated: realistic webhook events (`events`) and Most's delivery system (`delivery`)."""

from regpipe.simulators.most.delivery import ANSWER_DEADLINE_S, DELIVERY, RETRY_SCHEDULE, create_sender
from regpipe.simulators.most.events import VARIANTS, build_event, generate

__all__ = ["ANSWER_DEADLINE_S", "DELIVERY", "RETRY_SCHEDULE", "VARIANTS", "build_event", "create_sender", "generate"]
