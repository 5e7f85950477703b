"""Secrets and Standard Webhooks headers of outgoing deliveries (the HMAC itself is `regpipe.webhooks`')."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from regpipe.contract.sealing import RawSealer
from regpipe.webhooks.standard_webhooks import SECRET_PREFIX, signature_headers

__all__ = [
    "NO_SEALING",
    "SigningSecret",
    "delivery_headers",
    "generate_secret",
    "open_secret",
    "seal_secret",
    "valid_secrets",
]

#: A sealer with an empty key ring: secrets are stored as they are.
NO_SEALING = RawSealer({}, None)

_SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class SigningSecret:
    """One secret of a subscription; `expires_at` None means current, else it signs until then (the overlap)."""

    secret: str
    created_at: datetime
    expires_at: datetime | None = None

    def __repr__(self) -> str:  # never print the secret itself
        return f"SigningSecret(created_at={self.created_at!r}, expires_at={self.expires_at!r})"


def generate_secret() -> str:
    """A new `whsec_` secret: 32 random bytes, base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


def seal_secret(sealer: RawSealer, secret: str) -> tuple[bytes, str | None]:
    """The stored form of a secret: sealed under the active key when there is one, and its key id."""
    return sealer.seal(secret.encode())


def open_secret(sealer: RawSealer, stored: bytes, key_id: str | None) -> str:
    """The secret from its stored form (`SealError` when the key ring lacks its key)."""
    return sealer.open(stored, key_id).decode()


def valid_secrets(all_secrets: Iterable[SigningSecret], now: datetime) -> list[str]:
    """The secrets that sign at `now`: the current one and any still inside its overlap, newest first."""
    alive = [s for s in all_secrets if s.expires_at is None or s.expires_at > now]
    return [s.secret for s in sorted(alive, key=lambda s: s.created_at, reverse=True)]


def delivery_headers(secrets_: Sequence[str], event_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    """Content type plus `webhook-id` (the canonical event id), `webhook-timestamp`, `webhook-signature`."""
    if not secrets_:
        raise ValueError("a delivery needs at least one signing secret")
    return {
        "content-type": "application/json",
        **signature_headers(secrets_, event_id, body, timestamp=timestamp),
    }
