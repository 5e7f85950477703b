"""Shared-secret tokens, presented in a header (`Authorization: Bearer …` or e.g. `X-Webhook-Token`) or as the
last segment of the URL path; several tokens may be valid at once so they can be rotated without downtime."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from regpipe.runtime.tokens import MIN_TOKEN_LENGTH, TokenConfigError, TokenSet
from regpipe.webhooks.errors import AuthenticationError, WebhookConfigError

__all__ = ["MIN_TOKEN_LENGTH", "HeaderTokenAuth", "PathTokenAuth"]

_BEARER = "bearer "


def _token_set(tokens: Sequence[str]) -> TokenSet:
    try:
        return TokenSet(tokens)
    except TokenConfigError as exc:
        raise WebhookConfigError(f"webhook tokens: {exc}") from exc


class HeaderTokenAuth:
    """The token in a header; for `Authorization` the value is `Bearer <token>`."""

    uses_path_token = False

    def __init__(self, tokens: Sequence[str], *, header: str = "authorization") -> None:
        self._tokens = _token_set(tokens)
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
        self._tokens = _token_set(tokens)

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
