"""Errors of the delivery stage.

DeliveryError
├── InvalidSubscriptionError     a subscription request is malformed (bad URL, unknown filter syntax): HTTP 422
│   └── UnsafeEndpointError      the URL resolves to an address the SSRF guard refuses (or does not resolve)
├── SubscriptionNotFoundError    no subscription (or no stored event) with that id: HTTP 404
└── BlockedAddressError          at send time, the host resolved to a refused address (the attempt fails, retried)
"""

from __future__ import annotations

__all__ = [
    "BlockedAddressError",
    "DeliveryError",
    "InvalidSubscriptionError",
    "SubscriptionNotFoundError",
    "UnsafeEndpointError",
]


class DeliveryError(Exception):
    """Base of the delivery errors."""


class InvalidSubscriptionError(DeliveryError):
    """A subscription (or a change to one) is invalid; `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class UnsafeEndpointError(InvalidSubscriptionError):
    """The endpoint URL resolves to an address outside what the guard allows."""


class SubscriptionNotFoundError(DeliveryError):
    """The subscription or event named does not exist."""


class BlockedAddressError(DeliveryError):
    """The guard refused the address an endpoint resolved to when sending (or it did not resolve)."""
