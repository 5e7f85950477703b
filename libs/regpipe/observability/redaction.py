"""Redaction of secret values before anything is logged: EPP auth codes, mailbox credentials, API keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["REDACTED", "SECRET_KEYS", "redact"]

REDACTED: Final = "[redacted]"

#: Lower-cased field names whose values are secrets wherever they appear in a payload or a log event.
SECRET_KEYS: Final[frozenset[str]] = frozenset(
    {
        "authinfo",
        "auth_info",
        "authcode",
        "auth_code",
        "eppcode",
        "password",
        "apppassword",
        "app_password",
        "authenticatorsecret",
        "authenticator_secret",
        "totp",
        "secret",
        "api_key",
        "apikey",
        "x-api-key",
        "authorization",
        "token",
        "access_token",
        "client_secret",
        "signature",
        "x-signature",
        "webhook-signature",
    }
)


def redact(value: Any) -> Any:
    """Return a copy of `value` with the value of every secret-named key replaced, at any depth."""
    if isinstance(value, Mapping):
        return {
            key: (REDACTED if isinstance(key, str) and key.lower() in SECRET_KEYS else redact(item))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value
