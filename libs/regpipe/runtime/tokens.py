"""Shared-secret tokens: the bearer tokens of the services' own HTTP APIs (read API, delivery admin, console
sign-in) and the webhook receiver's provider tokens.

Several tokens may be valid at once so they can be rotated without downtime. Tokens are compared as SHA-256
digests against every configured token, so neither a token's content nor its length shows in the timing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

__all__ = ["MIN_TOKEN_LENGTH", "BearerAuth", "TokenConfigError", "TokenSet", "split_tokens"]

MIN_TOKEN_LENGTH = 16


class TokenConfigError(ValueError):
    """A configured token set is empty or holds a token too short to be a secret."""


def split_tokens(value: SecretStr | None) -> tuple[str, ...]:
    """The comma-separated tokens of a setting (empty entries dropped)."""
    if value is None:
        return ()
    return tuple(part.strip() for part in value.get_secret_value().split(",") if part.strip())


class TokenSet:
    """Constant-time membership test over a set of secret tokens.

    `allow_empty`: an empty set refuses every token (an API whose tokens are not configured stays closed);
    otherwise it is a configuration error, as is any token shorter than `min_length`.
    """

    def __init__(self, tokens: Sequence[str], *, min_length: int = MIN_TOKEN_LENGTH, allow_empty: bool = False) -> None:
        if not tokens and not allow_empty:
            raise TokenConfigError("at least one token must be configured")
        if any(len(token) < min_length for token in tokens):
            raise TokenConfigError(f"tokens must be at least {min_length} characters long")
        self._digests = tuple(hashlib.sha256(token.encode()).digest() for token in tokens)

    def __contains__(self, presented: str | bytes) -> bool:
        raw = presented.encode("utf-8", "surrogateescape") if isinstance(presented, str) else presented
        digest = hashlib.sha256(raw).digest()
        found = False
        for known in self._digests:
            found |= hmac.compare_digest(digest, known)
        return found


_SCHEME = HTTPBearer(auto_error=False, description="One of the service's configured API tokens")


class BearerAuth:
    """A FastAPI dependency: `Authorization: Bearer <token>` must hold one of the tokens, else 401.

    With no token configured every request is refused. Token length is the settings' concern here.
    """

    def __init__(self, tokens: Sequence[str]) -> None:
        self._tokens = TokenSet([token for token in tokens if token], min_length=1, allow_empty=True)

    async def __call__(self, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_SCHEME)]) -> None:
        token = credentials.credentials if credentials is not None else ""
        if not token or token not in self._tokens:
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="a valid bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
