"""Redaction of secret values before anything is logged: EPP auth codes, mailbox credentials, API keys.

Two passes: `redact` replaces the value of every secret-named key of a structure; `redact_text` rewrites secrets
that hide inside free text (a library's log message, an error text): credentials in URLs, `key=value` pairs with a
secret-named key, bearer tokens, `otpauth://` URIs and the token segment of a webhook URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["REDACTED", "SECRET_KEYS", "redact", "redact_text"]

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


# Longest first, so that e.g. `password` is matched whole rather than as `pass`.
_SECRET_NAMES = "|".join(
    sorted(
        {re.escape(key) for key in SECRET_KEYS} | {"pass", "passwd", "pw", "code", "secret_key"}, key=len, reverse=True
    )
)
#: (pattern, replacement) pairs, applied in order to every string that is logged.
_TEXT_SECRETS: Final = (
    # scheme://user:password@host (SMTP, IMAP, database URIs)
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]*:[^/\s@]*@"), r"\1" + REDACTED + "@"),
    # otpauth://totp/...?secret=...: the whole URI is the second factor
    (re.compile(r"(?i)\botpauth://\S+"), REDACTED),
    # Authorization: Bearer <token>, Basic <credentials>
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    # api_key=..., "password": "...", token: ... (query strings, form bodies, repr of dicts, JSON)
    (
        re.compile(rf"""(?i)(["']?\b(?:{_SECRET_NAMES})["']?\s*[=:]\s*)(["']?)[^\s&,;"'}}\]]+\2"""),
        r"\1\2" + REDACTED + r"\2",
    ),
    # POST /webhooks/<provider>/<token>: a path token is the credential itself
    (re.compile(r"(/webhooks/[A-Za-z0-9_-]+/)[^/\s?#\"']+"), r"\1" + REDACTED),
)


def redact_text(value: Any) -> Any:
    """Return a copy of `value` with secrets inside its strings rewritten (at any depth of dicts and lists)."""
    if isinstance(value, str):
        for pattern, replacement in _TEXT_SECRETS:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, Mapping):
        return {key: redact_text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_text(item) for item in value]
    return value
