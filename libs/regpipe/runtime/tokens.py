"""Bearer-token authentication for the services' own HTTP APIs (read API, delivery admin, console sign-in).

Several tokens may be valid at once so they can be rotated without downtime. Tokens are compared as SHA-256
digests against every configured token, so neither a token's content nor its length shows in the timing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from fastapi import HTTPException, Request, status
from pydantic import SecretStr

__all__ = ["MIN_TOKEN_LENGTH", "BearerAuth", "TokenConfigError", "TokenSet", "split_tokens"]

MIN_TOKEN_LENGTH = 16
_BEARER = "bearer "


class TokenConfigError(ValueError):
    """A configured token set is empty or holds a token too short to be a secret."""


def split_tokens(value: SecretStr | None) -> tuple[str, ...]:
    """The comma-separated tokens of a setting (empty entries dropped)."""
    if value is None:
        return ()
    return tuple(part.strip() for part in value.get_secret_value().split(",") if part.strip())


class TokenSet:
    """Constant-time membership test over a set of secret tokens."""

    def __init__(self, tokens: Sequence[str]) -> None:
        if not tokens:
            raise TokenConfigError("at least one token must be configured")
        if any(len(token) < MIN_TOKEN_LENGTH for token in tokens):
            raise TokenConfigError(f"tokens must be at least {MIN_TOKEN_LENGTH} characters long")
        self._digests = tuple(hashlib.sha256(token.encode()).digest() for token in tokens)

    def __contains__(self, presented: str | bytes) -> bool:
        raw = presented.encode("utf-8", "surrogateescape") if isinstance(presented, str) else presented
        digest = hashlib.sha256(raw).digest()
        found = False
        for known in self._digests:
            found |= hmac.compare_digest(digest, known)
        return found


class BearerAuth:
    """A FastAPI dependency: `Authorization: Bearer <token>` must hold one of the tokens, else 401."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self._tokens = TokenSet(tokens)

    async def __call__(self, request: Request) -> None:
        value = request.headers.get("authorization", "")
        token = value[len(_BEARER) :].strip() if value[: len(_BEARER)].lower() == _BEARER else ""
        if not token or token not in self._tokens:
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="a valid bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
