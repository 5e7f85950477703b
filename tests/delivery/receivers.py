"""Local subscriber endpoints on 127.0.0.1 with scripted behaviour, recording every request they get."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from regpipe.runtime.http import serve_app


@dataclass(frozen=True, slots=True)
class Arrival:
    """One request an endpoint received, and what it answered."""

    endpoint: str
    webhook_id: str
    at: float  # time.monotonic()
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receivers:
    """Endpoints by path: `healthy`, `flapping` (every other request fails), `slow` (answers after `slow_s`),
    `gone` (410), `throttled` (429 + Retry-After for the first attempt of each id), `failing_twice` (500 for the
    first two attempts of each id), `broken` (always 500), `nul` (200 with a NUL byte in the body)."""

    slow_s: float = 2.0
    #: While set and not open, the slow endpoint holds every request (a test decides when it may answer).
    slow_gate: asyncio.Event | None = None
    retry_after_s: int = 1
    arrivals: list[Arrival] = field(default_factory=list)
    port: int = 0
    _seen: Counter[tuple[str, str]] = field(default_factory=Counter)
    _requests: Counter[str] = field(default_factory=Counter)

    def url(self, endpoint: str) -> str:
        """The endpoint's URL."""
        return f"http://127.0.0.1:{self.port}/{endpoint}"

    def of(self, endpoint: str) -> list[Arrival]:
        """Every request `endpoint` received."""
        return [a for a in self.arrivals if a.endpoint == endpoint]

    def delivered_ids(self, endpoint: str) -> set[str]:
        """webhook-ids the endpoint answered with a 2xx."""
        return {a.webhook_id for a in self.of(endpoint) if 200 <= a.status < 300}

    async def _answer(self, request: Request) -> Response:
        endpoint = request.path_params["endpoint"]
        body = await request.body()
        webhook_id = request.headers.get("webhook-id", "")
        self._seen[(endpoint, webhook_id)] += 1
        self._requests[endpoint] += 1
        nth_for_id = self._seen[(endpoint, webhook_id)]
        headers: dict[str, str] = {}
        if endpoint == "slow":
            if self.slow_gate is not None:
                await self.slow_gate.wait()
            await asyncio.sleep(self.slow_s)
            status = 200
        elif endpoint == "flapping":
            status = 500 if self._requests[endpoint] % 2 else 200
        elif endpoint == "gone":
            status = 410
        elif endpoint == "throttled":
            status = 429 if nth_for_id == 1 else 200
            if status == 429:
                headers["retry-after"] = str(self.retry_after_s)
        elif endpoint == "broken":
            status = 500
        elif endpoint == "failing_twice":
            status = 500 if nth_for_id <= 2 else 200
        else:
            status = 200
        self.arrivals.append(Arrival(endpoint, webhook_id, time.monotonic(), dict(request.headers), body, status))
        if endpoint == "nul":
            return Response(b"thanks\x00", status_code=200)
        return PlainTextResponse("ok" if status < 300 else "not now", status_code=status, headers=headers)


@asynccontextmanager
async def serve_receivers(receivers: Receivers) -> AsyncIterator[Receivers]:
    """Serve the endpoints on a free port of 127.0.0.1."""
    app = Starlette(routes=[Route("/{endpoint}", receivers._answer, methods=["POST"])])
    async with serve_app(app) as port:
        receivers.port = port
        yield receivers
