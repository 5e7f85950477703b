"""Delivery of canonical events to subscriber webhooks: signed (Standard Webhooks), at-least-once, never blocking.

Pure cores (filters, retry schedule, outcome classification, signing headers, SSRF guard) beside the PostgreSQL
store, the Kafka intake, the dispatcher and the admin API; the design is in `docs/delivery.md`.

Exceptions: see `regpipe.delivery.errors`.
"""

from regpipe.delivery.address_guard import AddressGuard, Resolver, SystemResolver, validate_endpoint_url
from regpipe.delivery.attempt import AttemptResult, send_attempt
from regpipe.delivery.errors import (
    BlockedAddressError,
    DeliveryError,
    InvalidSubscriptionError,
    SubscriptionNotFoundError,
    UnsafeEndpointError,
)
from regpipe.delivery.filters import EventFilter
from regpipe.delivery.guarded_transport import GuardedTransport
from regpipe.delivery.http_client import create_delivery_client
from regpipe.delivery.outcome import AttemptVerdict, Classification, classify
from regpipe.delivery.schedule import DEFAULT_SCHEDULE_S, RetrySchedule, parse_retry_after
from regpipe.delivery.signing import SigningSecret, delivery_headers, generate_secret, valid_secrets

__all__ = [
    "DEFAULT_SCHEDULE_S",
    "AddressGuard",
    "AttemptResult",
    "AttemptVerdict",
    "BlockedAddressError",
    "Classification",
    "DeliveryError",
    "EventFilter",
    "GuardedTransport",
    "InvalidSubscriptionError",
    "Resolver",
    "RetrySchedule",
    "SigningSecret",
    "SubscriptionNotFoundError",
    "SystemResolver",
    "UnsafeEndpointError",
    "classify",
    "create_delivery_client",
    "delivery_headers",
    "generate_secret",
    "parse_retry_after",
    "send_attempt",
    "valid_secrets",
    "validate_endpoint_url",
]
