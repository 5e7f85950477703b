"""Errors of the webhook receiver library; the tree is drawn in the package docstring."""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BodyTimeoutError",
    "BodyTooLargeError",
    "KafkaUnavailableError",
    "ReceiverBusyError",
    "RequestRefusedError",
    "UnreadableRequestError",
    "WebhookConfigError",
    "WebhookError",
]


class WebhookError(Exception):
    """Base of the webhook receiver's errors."""


class WebhookConfigError(WebhookError):
    """An authentication or receiver setting is unusable; raised while the app is built, never per request."""


class RequestRefusedError(WebhookError):
    """A request the receiver refuses: it carries the HTTP status and a machine-readable code for the answer.

    The message is sent to the caller, so it must never quote a secret or the body.
    """

    status: int = 400

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        if status is not None:
            self.status = status


class AuthenticationError(RequestRefusedError):
    """Missing or wrong credentials, or a signature timestamp outside the tolerance (401)."""

    status = 401


class BodyTooLargeError(RequestRefusedError):
    """The body is larger than the configured maximum (413)."""

    status = 413


class BodyTimeoutError(RequestRefusedError):
    """The body did not arrive in full within the configured time (408); a slow sender cannot hold a slot."""

    status = 408


class UnreadableRequestError(RequestRefusedError):
    """The request cannot be read as a webhook: wrong content type, encoding or charset, or no body (400)."""

    status = 400


class KafkaUnavailableError(RequestRefusedError):
    """Kafka did not acknowledge the record, so the provider must send it again later (503)."""

    status = 503


class ReceiverBusyError(RequestRefusedError):
    """As many bodies as configured are being read already, so this one must come again later (503)."""

    status = 503
