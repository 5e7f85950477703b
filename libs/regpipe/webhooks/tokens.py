"""Shared-secret tokens, presented in a header (`Authorization: Bearer …` or e.g. `X-Webhook-Token`) or as the
last segment of the URL path; several tokens may be valid at once so they can be rotated without downtime."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

from regpipe.webhooks.errors import AuthenticationError, WebhookConfigError

__all__ = ["MIN_TOKEN_LENGTH", "HeaderTokenAuth", "PathTokenAuth"]

MIN_TOKEN_LENGTH = 16
_BEARER = "bearer "


class _TokenSet:
    """Constant-time membership: tokens are compared as SHA-256 digests, so neither a token's content nor its
    length shows in the timing, and every configured token is compared."""

    def __init__(self, tokens: Sequence[str]) -> None:
        if not tokens:
            raise WebhookConfigError("token authentication needs at least one token")
        if any(len(token) < MIN_TOKEN_LENGTH for token in tokens):
            raise WebhookConfigError(f"webhook tokens must be at least {MIN_TOKEN_LENGTH} characters long")
        self._digests = tuple(hashlib.sha256(token.encode()).digest() for token in tokens)

    def __contains__(self, presented: bytes) -> bool:
        digest = hashlib.sha256(presented).digest()
        found = False
        for known in self._digests:
            found |= hmac.compare_digest(digest, known)
        return found


class HeaderTokenAuth:
    """The token in a header; for `Authorization` the value is `Bearer <token>`."""

    uses_path_token = False

    def __init__(self, tokens: Sequence[str], *, header: str = "authorization") -> None:
        self._tokens = _TokenSet(tokens)
        self._header = header.strip().lower()
        self._bearer = self._header == "authorization"

    def authenticate(self, headers: Mapping[str, str], body: bytes, path_token: str | None) -> None:
        """Return if the header holds a known token; raise `AuthenticationError` otherwise."""
        self.check_headers(headers, path_token)

    def verify_body(self, headers: Mapping[str, str], body: bytes) -> None:
        """Nothing to do: the token does not depend on the body."""

    def check_headers(self, headers: Mapping[str, str], path_token: str | None) -> None:
        """Return if the header holds a known token; raise `AuthenticationError` otherwise."""
        value = headers.get(self._header)
        if self._bearer and value is not None:
            value = value[len(_BEARER) :] if value[: len(_BEARER)].lower() == _BEARER else None
        if not value:
            raise AuthenticationError("missing_token", f"the {self._header} header must carry the webhook token")
        # Headers reach us decoded as latin-1: encoding back gives the bytes that were sent.
        if value.strip().encode("latin-1") not in self._tokens:
            raise AuthenticationError("invalid_token", "the webhook token is not valid")


class PathTokenAuth:
    """The token as the URL's last segment: `POST /webhooks/<provider>/<token>`."""

    uses_path_token = True

    def __init__(self, tokens: Sequence[str]) -> None:
        self._tokens = _TokenSet(tokens)

    def authenticate(self, headers: Mapping[str, str], body: bytes, path_token: str | None) -> None:
        """Return if the path ends with a known token; raise `AuthenticationError` otherwise."""
        self.check_headers(headers, path_token)

    def verify_body(self, headers: Mapping[str, str], body: bytes) -> None:
        """Nothing to do: the token does not depend on the body."""

    def check_headers(self, headers: Mapping[str, str], path_token: str | None) -> None:
        """Return if the path ends with a known token; raise `AuthenticationError` otherwise."""
        if not path_token:
            raise AuthenticationError("missing_token", "the URL must end with the webhook token")
        if path_token.encode() not in self._tokens:
            raise AuthenticationError("invalid_token", "the webhook token is not valid")
