"""OpenSRS, simulated: realistic event objects (`events`), the XML API that queues them for `EVENT POLL` /
`EVENT ACK` (`api`), and the notification e-mails that carry the same events into a mailbox (`mail`)."""

from regpipe.simulators.opensrs.api import (
    AckRecord,
    Fault,
    FaultRates,
    OpenSRSSimulator,
    create_simulator_app,
    serve_simulator,
)
from regpipe.simulators.opensrs.events import SAMPLE_START, generate_event, generate_events
from regpipe.simulators.opensrs.mail import (
    MailboxTarget,
    MailKind,
    SimulatedMail,
    Template,
    deliver,
    mailbox_batch,
    malformed_mail,
    noise_mail,
    notification_mail,
)

__all__ = [
    "SAMPLE_START",
    "AckRecord",
    "Fault",
    "FaultRates",
    "MailKind",
    "MailboxTarget",
    "OpenSRSSimulator",
    "SimulatedMail",
    "Template",
    "create_simulator_app",
    "deliver",
    "generate_event",
    "generate_events",
    "mailbox_batch",
    "malformed_mail",
    "noise_mail",
    "notification_mail",
    "serve_simulator",
]
