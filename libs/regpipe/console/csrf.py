"""CSRF protection: every action carries the session's token in its form, compared in constant time."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any

__all__ = ["csrf_token", "csrf_valid"]

_KEY = "csrf"


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's token, created on first use."""
    token = session.get(_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[_KEY] = token
    return token


def csrf_valid(session: MutableMapping[str, Any], presented: str | None) -> bool:
    """True when `presented` is the session's token."""
    token = session.get(_KEY)
    if not isinstance(token, str) or not presented:
        return False
    return hmac.compare_digest(token.encode(), presented.encode("utf-8", "surrogateescape"))
