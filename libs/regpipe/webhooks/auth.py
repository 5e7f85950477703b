"""The authentication schemes a provider's webhooks can be configured with, and the factory that builds one.

Neither provider documents how it authenticates its webhooks, so the scheme is configuration, not code:
Standard Webhooks signatures, a token in a header, or a token in the URL path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Protocol

from regpipe.webhooks.standard_webhooks import StandardWebhooksAuth
from regpipe.webhooks.tokens import HeaderTokenAuth, PathTokenAuth

__all__ = ["AuthScheme", "Authenticator", "build_authenticator"]


class AuthScheme(StrEnum):
    """How a provider proves a webhook is its own."""

    STANDARD_WEBHOOKS = "standard_webhooks"
    HEADER_TOKEN = "header_token"  # noqa: S105 - a scheme name, not a secret
    PATH_TOKEN = "path_token"  # noqa: S105 - a scheme name, not a secret


class Authenticator(Protocol):
    """Checks one request; raises `AuthenticationError` when it is not the provider's.

    In two steps, so that an unauthenticated caller is refused before its body is read: `check_headers` is all
    that can be checked without the body (a token in full; a signature's headers and timestamp), `verify_body`
    the rest (a signature over the body), called only after `check_headers` passed.
    """

    @property
    def uses_path_token(self) -> bool:
        """True when the token is the URL's last segment (so the route has one more segment)."""
        ...

    def check_headers(self, headers: Mapping[str, str], path_token: str | None) -> None:
        """Return when the headers and path may authenticate the request; `headers` have lower-case names."""
        ...

    def verify_body(self, headers: Mapping[str, str], body: bytes) -> None:
        """Return when `body` (the exact bytes received) is authenticated by the already checked headers."""
        ...

    def authenticate(self, headers: Mapping[str, str], body: bytes, path_token: str | None) -> None:
        """Both steps at once."""
        ...


def build_authenticator(scheme: AuthScheme, secrets: Sequence[str], *, token_header: str) -> Authenticator:
    """The authenticator of `scheme` accepting any of `secrets`; `WebhookConfigError` if they are unusable."""
    match scheme:
        case AuthScheme.STANDARD_WEBHOOKS:
            return StandardWebhooksAuth(secrets)
        case AuthScheme.HEADER_TOKEN:
            return HeaderTokenAuth(secrets, header=token_header)
        case AuthScheme.PATH_TOKEN:
            return PathTokenAuth(secrets)
