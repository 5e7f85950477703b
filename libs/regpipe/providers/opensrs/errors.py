"""Errors of the OpenSRS adapter; the tree is drawn in the package docstring (`regpipe.providers.opensrs`)."""

from __future__ import annotations

__all__ = [
    "AUTH_CODES",
    "RETRIABLE_CODES",
    "AccountBlockedError",
    "AuthenticationError",
    "EnvelopeError",
    "OpenSRSError",
    "RefusedReplyError",
    "ReplyError",
    "TransportError",
    "UnsafeXmlError",
]

#: Reply codes that mean "try again later": rate limit, connection limit, internal/registry error, busy.
RETRIABLE_CODES: frozenset[int] = frozenset({300, 310, 400, 405, 486})
#: Reply codes that mean the credentials (user, key, allow-listed IP) were refused.
AUTH_CODES: frozenset[int] = frozenset({401, 410, 415})


class OpenSRSError(Exception):
    """Base of every OpenSRS adapter error; `retriable` says whether the same call may succeed later."""

    retriable: bool = False


class EnvelopeError(OpenSRSError):
    """Bytes that are not a well-formed OPS envelope, or a value that cannot be written as one."""


class UnsafeXmlError(EnvelopeError):
    """XML declaring entities or referring to external resources: refused before anything is expanded."""


class TransportError(OpenSRSError):
    """No usable reply: connection failure, timeout, an HTTP error status, or a reply that is not an envelope."""

    def __init__(self, message: str, *, retriable: bool = True, status_code: int | None = None) -> None:
        super().__init__(message)
        self.retriable = retriable
        self.status_code = status_code


class RefusedReplyError(TransportError):
    """A reply the hardened parser refuses (entities, external references, runaway nesting, not an envelope, an
    unexpected events shape). `body` holds its bytes so the poller can keep it; `unsafe` tells a deliberate
    refusal (entities) from bytes that may have been cut short in transit."""

    def __init__(self, message: str, *, body: bytes, unsafe: bool) -> None:
        super().__init__(message)
        self.body = body
        self.unsafe = unsafe


class AccountBlockedError(OpenSRSError):
    """The oldest queued event cannot be polled or acknowledged: nothing behind it moves until OpenSRS (or a
    human) removes it. Kept in quarantine, counted, reported by the poller's health; polled again after a pause."""


class ReplyError(OpenSRSError):
    """A REPLY with `is_success` 0; retriable for the codes OpenSRS documents as transient."""

    def __init__(self, response_code: int, response_text: str, *, action: str) -> None:
        super().__init__(f"OpenSRS {action} failed: {response_code} {response_text}")
        self.response_code = response_code
        self.response_text = response_text
        self.action = action
        self.retriable = response_code in RETRIABLE_CODES


class AuthenticationError(ReplyError):
    """Credentials refused (401/410/415): retrying with the same user and key cannot help."""
