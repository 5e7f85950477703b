"""The aggregator's PostgreSQL store: applying events (one transaction per batch, idempotent by event id), settling
Cold Mail orders, producing expiry checkpoints, and the transactional outbox with its relay to Kafka."""

from regpipe.aggregate.store.apply import ApplyResult, apply_events
from regpipe.aggregate.store.connection import CONNECTION_ERRORS
from regpipe.aggregate.store.expiry import produce_due_checkpoints
from regpipe.aggregate.store.outbox import OutboxRelay, write_outbox
from regpipe.aggregate.store.settle import settle_quiet_orders

__all__ = [
    "CONNECTION_ERRORS",
    "ApplyResult",
    "OutboxRelay",
    "apply_events",
    "produce_due_checkpoints",
    "settle_quiet_orders",
    "write_outbox",
]
