"""One HTTP API the console reads from: a bearer token, errors turned into the console's, answers into models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from regpipe.console.errors import SourceNotFoundError, SourceRefusedError, SourceUnavailableError

__all__ = ["HttpSource"]

M = TypeVar("M")


class HttpSource:
    """Calls `base_url` with `Authorization: Bearer <token>`; the token is never logged nor shown."""

    def __init__(self, name: str, base_url: str, token: str, *, timeout_s: float = 10.0) -> None:
        self.name = name
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def call(
        self,
        model: type[M] | TypeAdapter[M],
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | None] | Sequence[tuple[str, str]] = (),
        json: BaseModel | dict[str, Any] | None = None,
    ) -> M:
        """One request; the answer validated as `model`."""
        body = json.model_dump(mode="json") if isinstance(json, BaseModel) else json
        pairs: list[tuple[str, str | int | float | bool | None]] = (
            [(k, str(v)) for k, v in params.items() if v not in (None, "")]
            if isinstance(params, Mapping)
            else list(params)
        )
        try:
            answer = await self._client.request(method, path, params=pairs, json=body)
        except httpx.HTTPError as exc:
            raise SourceUnavailableError(f"{self.name} did not answer ({type(exc).__name__})") from exc
        if answer.status_code == 404:
            raise SourceNotFoundError(_detail(answer) or "not found")
        if answer.status_code in (400, 401, 403, 422):
            raise SourceRefusedError(f"{self.name} refused the request: {_detail(answer)}")
        if answer.status_code >= 300:
            raise SourceUnavailableError(f"{self.name} answered {answer.status_code}")
        adapter = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
        try:
            return adapter.validate_json(answer.content)
        except ValidationError as exc:
            raise SourceUnavailableError(f"{self.name} answered something unexpected") from exc


def _detail(answer: httpx.Response) -> str:
    """The error message of a JSON error body (FastAPI `detail` or the admin API's `message`), briefly."""
    try:
        body = answer.json()
    except ValueError:
        return f"HTTP {answer.status_code}"
    if isinstance(body, dict):
        for key in ("message", "detail"):
            value = body.get(key)
            if isinstance(value, str):
                return value[:300]
            if value is not None:
                return "invalid parameter"
    return f"HTTP {answer.status_code}"
