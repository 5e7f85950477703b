"""Most's simulated delivery system retries on Most's schedule (scaled down), then gives up."""

from __future__ import annotations

import base64
import itertools
import os
import random
import time

import httpx
from starlette.types import Receive, Scope, Send

from regpipe.simulators.kit.webhook_sender import SenderAuth
from regpipe.simulators.most import RETRY_SCHEDULE, create_sender, generate
from regpipe.webhooks.auth import AuthScheme

EVENTS = generate(random.Random(7), 1)


async def test_retries_like_most_then_gives_up() -> None:
    assert RETRY_SCHEDULE.delays_s == (0.0, 60.0, 600.0, 3600.0)
    arrivals: list[float] = []

    async def always_down(scope: Scope, receive: Receive, send: Send) -> None:
        arrivals.append(time.monotonic())
        await send({"type": "http.response.start", "status": 500, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=always_down)) as client:
        sender = create_sender(
            "http://receiver/webhooks/most",
            SenderAuth(AuthScheme.STANDARD_WEBHOOKS, (secret,)),
            client,
            time_scale=1 / 6000,  # 1 h -> 0.6 s
        )
        outcome = await sender.send(EVENTS[0])
    assert not outcome.delivered
    assert len(outcome.attempts) == 5
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert gaps[2] >= 0.1 - 0.01
    assert gaps[3] >= 0.6 - 0.01
