"""The run command's subscriber: a local webhook endpoint on 127.0.0.1, subscribed to every canonical event.

It checks each delivery's Standard Webhooks signature and, to show retries in the live view, answers every
tenth request with 503 (the delivery service retries it on its schedule).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from regpipe.runtime.http import serve_app
from regpipe.webhooks.errors import AuthenticationError
from regpipe.webhooks.standard_webhooks import StandardWebhooksAuth

__all__ = ["DemoSubscriber", "serve_demo_subscriber", "subscribe_to_everything"]

_FAIL_EVERY = 10


@dataclass
class DemoSubscriber:
    """The endpoint's URL and what it has seen; `secret` is set once the subscription exists."""

    url: str = ""
    secret: str | None = None
    received: int = 0
    refused: int = 0
    ids: set[str] = field(default_factory=set)


@contextlib.asynccontextmanager
async def serve_demo_subscriber() -> AsyncIterator[DemoSubscriber]:
    """Serve the endpoint on a free port of 127.0.0.1 until the context ends."""
    subscriber = DemoSubscriber()

    async def hook(request: Request) -> Response:
        body = await request.body()
        subscriber.received += 1
        if subscriber.secret is None:
            return Response(status_code=503)
        try:
            StandardWebhooksAuth([subscriber.secret]).authenticate(dict(request.headers), body, None)
        except AuthenticationError:
            subscriber.refused += 1
            return Response(status_code=401)
        if subscriber.received % _FAIL_EVERY == 0:
            return Response(status_code=503, headers={"retry-after": "1"})
        subscriber.ids.add(request.headers["webhook-id"])
        return Response(status_code=204)

    async with serve_app(Starlette(routes=[Route("/hooks/registrar", hook, methods=["POST"])])) as port:
        subscriber.url = f"http://127.0.0.1:{port}/hooks/registrar"
        yield subscriber


async def subscribe_to_everything(admin_url: str, token: str, subscriber: DemoSubscriber) -> str:
    """Create the subscription through the delivery admin API; keep its secret in the subscriber."""
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(
            f"{admin_url}/v1/subscriptions",
            json={"url": subscriber.url, "description": "run command subscriber", "max_concurrency": 8},
            headers={"authorization": f"Bearer {token}"},
        )
    answer.raise_for_status()
    body = answer.json()
    subscriber.secret = str(body["secret"])
    return str(body["subscription"]["id"])
