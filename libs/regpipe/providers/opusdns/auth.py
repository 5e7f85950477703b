"""OpusDNS authentication as httpx auth flows: a static API key (`X-Api-Key: opk_…`), or OAuth client
credentials whose Bearer token is fetched from `POST /v1/auth/token`, cached, and refreshed before it expires."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Generator

import httpx
from pydantic import SecretStr, ValidationError

from regpipe.providers.opusdns.errors import OpusDnsPayloadError, api_error
from regpipe.providers.opusdns.payloads import TokenResponse

__all__ = ["TOKEN_PATH", "ApiKeyAuth", "ClientCredentialsAuth"]

TOKEN_PATH = "/v1/auth/token"  # noqa: S105 -- a URL path, not a password


class ApiKeyAuth(httpx.Auth):
    """Sends the API key on every request."""

    def __init__(self, api_key: SecretStr) -> None:
        self._api_key = api_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-Api-Key"] = self._api_key.get_secret_value()
        yield request


class ClientCredentialsAuth(httpx.Auth):
    """OAuth 2.0 client credentials: one token shared by all requests, renewed `refresh_margin_s` before expiry.

    A 401 on a cached token (revoked, or the provider's clock disagrees) fetches a new token and retries once.
    Async only: the poller's client is an `httpx.AsyncClient`.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: SecretStr,
        *,
        token_url: str,
        refresh_margin_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._token_url = token_url
        self._refresh_margin_s = refresh_margin_s
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()

    @property
    def renews_in_s(self) -> float | None:
        """Seconds until the cached token is due for renewal (None: no token yet)."""
        return None if self._token is None else self._refresh_at - self._clock()

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("ClientCredentialsAuth works with httpx.AsyncClient only")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        fetched = False
        token = self._cached()
        if token is None:
            # One fetch for all concurrent requests: the others wait here and then find the new token.
            async with self._lock:
                token = self._cached()
                if token is None:
                    token = await self._store((yield self._token_request()))
                    fetched = True
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401 and not fetched:
            async with self._lock:
                if self._token == token:
                    self._token = None
                renewed = self._cached()
                if renewed is None:
                    renewed = await self._store((yield self._token_request()))
            request.headers["Authorization"] = f"Bearer {renewed}"
            yield request

    def _cached(self) -> str | None:
        if self._token is not None and self._clock() < self._refresh_at:
            return self._token
        return None

    def _token_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self._token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._client_secret.get_secret_value(),
            },
            headers={"Accept": "application/json"},
        )

    async def _store(self, response: httpx.Response) -> str:
        await response.aread()  # overriding async_auth_flow skips httpx's own reading of the token answer
        if response.status_code != httpx.codes.OK:
            raise api_error(response)
        try:
            answer = TokenResponse.model_validate_json(response.content)
        except ValidationError as exc:
            raise OpusDnsPayloadError(f"token answer is not the documented JSON: {exc.error_count()} errors") from exc
        margin = min(self._refresh_margin_s, answer.expires_in / 2)
        self._token = answer.access_token
        self._refresh_at = self._clock() + answer.expires_in - margin
        return answer.access_token
