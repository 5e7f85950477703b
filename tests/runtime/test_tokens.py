"""Bearer tokens of the services' own APIs: only a configured token passes, every other request gets 401."""

from __future__ import annotations

import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import SecretStr

from regpipe.runtime.tokens import BearerAuth, TokenConfigError, TokenSet, split_tokens

GOOD = "t" * 24
OLD = "o" * 24


def _app() -> FastAPI:
    app = FastAPI(dependencies=[Depends(BearerAuth([GOOD, OLD]))])

    @app.get("/thing")
    async def thing() -> dict[str, str]:
        return {"ok": "yes"}

    return app


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": f"Basic {GOOD}"},
        {"authorization": "Bearer wrong-token-of-length"},
        {"authorization": "Bearer "},
    ],
)
async def test_requests_without_a_valid_token_get_401(headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://api") as client:
        answer = await client.get("/thing", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("token", [GOOD, OLD])
async def test_every_configured_token_passes(token: str) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://api") as client:
        answer = await client.get("/thing", headers={"authorization": f"bearer {token}"})
    assert answer.status_code == 200
    assert answer.json() == {"ok": "yes"}


def test_short_or_missing_tokens_are_a_configuration_error() -> None:
    with pytest.raises(TokenConfigError):
        TokenSet([])
    with pytest.raises(TokenConfigError):
        TokenSet(["short"])


def test_split_tokens_drops_blanks() -> None:
    assert split_tokens(SecretStr(f" {GOOD}, ,{OLD}")) == (GOOD, OLD)
    assert split_tokens(None) == ()
