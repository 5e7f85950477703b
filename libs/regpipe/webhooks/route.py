"""One provider's webhook route as configured: its adapter, its authenticator and the account it reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from regpipe.webhooks.adapter import WebhookAdapter
from regpipe.webhooks.auth import Authenticator, AuthScheme, build_authenticator

__all__ = ["ProviderRoute"]


@dataclass(frozen=True, slots=True)
class ProviderRoute:
    """What `POST /webhooks/<name>` does: authenticate with `authenticator`, identify with `adapter`."""

    name: str
    adapter: WebhookAdapter
    authenticator: Authenticator
    account: str | None = None

    @classmethod
    def configure(
        cls,
        name: str,
        adapter: WebhookAdapter,
        *,
        secrets: Sequence[str],
        scheme: AuthScheme | None = None,
        token_header: str | None = None,
        account: str | None = None,
    ) -> ProviderRoute:
        """A route whose unset options take the adapter's defaults; `WebhookConfigError` on unusable secrets."""
        authenticator = build_authenticator(
            scheme or adapter.default_auth_scheme,
            secrets,
            token_header=token_header or adapter.default_token_header,
        )
        return cls(name=name, adapter=adapter, authenticator=authenticator, account=account)
