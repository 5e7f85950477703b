"""Serving a simulator: on loopback at a free port, and closed before the server stops, so that a stalled answer
does not hold the shutdown up."""

from __future__ import annotations

import asyncio
import random
import time

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from regpipe.simulators.kit.faults import FaultPlan
from regpipe.simulators.kit.serving import serve


async def test_serves_on_loopback_and_closes_before_stopping() -> None:
    plan: FaultPlan[str, str] = FaultPlan(random.Random(0))
    stalling = asyncio.Event()

    async def slow(request: Request) -> Response:
        stalling.set()
        await plan.stall(120)
        return Response(b"late")

    app = Starlette(routes=[Route("/slow", slow), Route("/ok", lambda request: Response(b"ok"))])
    async with httpx.AsyncClient(timeout=60) as client:
        async with serve(app, on_close=plan.close) as url:
            assert url.startswith("http://127.0.0.1:")
            assert (await client.get(f"{url}/ok")).content == b"ok"
            pending = asyncio.create_task(client.get(f"{url}/slow"))
            await asyncio.wait_for(stalling.wait(), timeout=30)
            started = time.monotonic()
        assert time.monotonic() - started < 10  # the server did not wait out the two-minute stall
        assert (await asyncio.wait_for(pending, timeout=30)).content == b"late"
