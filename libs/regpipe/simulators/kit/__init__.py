"""What every provider simulator is built from: faults on demand (`faults`), held acknowledgements
(`held_acks`), one way to serve an API simulator (`serving`), and a provider-like webhook sender
(`webhook_sender`) for the providers that push."""

from regpipe.simulators.kit.faults import FaultPlan
from regpipe.simulators.kit.held_acks import HeldAcks
from regpipe.simulators.kit.serving import serve
from regpipe.simulators.kit.webhook_sender import (
    Attempt,
    DeliveryOutcome,
    DeliveryPolicy,
    Misbehaviour,
    OutgoingWebhook,
    RetrySchedule,
    SenderAuth,
    WebhookSender,
)

__all__ = [
    "Attempt",
    "DeliveryOutcome",
    "DeliveryPolicy",
    "FaultPlan",
    "HeldAcks",
    "Misbehaviour",
    "OutgoingWebhook",
    "RetrySchedule",
    "SenderAuth",
    "WebhookSender",
    "serve",
]
