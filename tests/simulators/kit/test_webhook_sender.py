"""The provider-like sender: it signs, retries on its schedule until a 2xx, and misbehaves when asked to.

The receiving side is a small scripted ASGI app that verifies with the receiver's own authenticators and records
what arrived, so every assertion is about requests that really reached a server.
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass, field

import httpx
import orjson
import pytest
from starlette.types import Receive, Scope, Send

from regpipe.simulators.kit.webhook_sender import (
    Misbehaviour,
    OutgoingWebhook,
    RetrySchedule,
    SenderAuth,
    WebhookSender,
)
from regpipe.webhooks.auth import Authenticator, AuthScheme, build_authenticator
from regpipe.webhooks.errors import AuthenticationError

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()
TOKEN = "tok_sender_test_0123456789"
EVENT = OutgoingWebhook("evt_sender_1", "balance.low", b'{"id":"evt_sender_1","type":"balance.low","data":{}}')
FAST = RetrySchedule(delays_s=(0.0, 0.02, 0.04))


@dataclass
class _Received:
    path: str
    headers: dict[str, str]
    body: bytes
    chunks: int


@dataclass
class _ScriptedReceiver:
    """Answers each authenticated request with the next status of `script` (the last one repeats)."""

    authenticator: Authenticator
    script: list[int]
    received: list[_Received] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        body = b"".join(chunks)
        self.times.append(time.monotonic())
        self.received.append(_Received(scope["path"], headers, body, len([c for c in chunks if c])))
        token = scope["path"].rsplit("/", 1)[-1] if self.authenticator.uses_path_token else None
        try:
            self.authenticator.authenticate(headers, body, token)
        except AuthenticationError:
            status = 401
        else:
            status = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


STANDARD = SenderAuth(AuthScheme.STANDARD_WEBHOOKS, (SECRET,))


def _receiver(script: list[int], auth: SenderAuth = STANDARD) -> _ScriptedReceiver:
    authenticator = build_authenticator(auth.scheme, auth.secrets, token_header=auth.token_header)
    return _ScriptedReceiver(authenticator, script)


def _make(
    server: _ScriptedReceiver, auth: SenderAuth = STANDARD, misbehaviour: Misbehaviour | None = None
) -> WebhookSender:
    # An in-process transport: no sockets to close, the requests still go through httpx and ASGI.
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=server), base_url="http://receiver")
    return WebhookSender(
        "http://receiver/webhooks/most", auth=auth, schedule=FAST, client=client, misbehaviour=misbehaviour
    )


async def test_retries_on_the_schedule_until_a_2xx() -> None:
    server = _receiver([503, 500, 202])
    outcome = await _make(server).send(EVENT)
    assert outcome.delivered
    assert [a.status for a in outcome.attempts] == [503, 500, 202]
    assert server.times[2] - server.times[1] >= 0.02
    # Every retry is the same message: same id and body, a fresh timestamp and signature.
    assert {r.headers["webhook-id"] for r in server.received} == {"evt_sender_1"}
    assert {r.body for r in server.received} == {EVENT.body}


async def test_gives_up_once_the_schedule_is_exhausted() -> None:
    server = _receiver([500])
    outcome = await _make(server).send(EVENT)
    assert not outcome.delivered
    assert len(outcome.attempts) == 1 + len(FAST.delays_s)


async def test_410_gone_stops_retrying() -> None:
    server = _receiver([410])
    outcome = await _make(server).send(EVENT)
    assert [a.status for a in outcome.attempts] == [410]


async def test_no_answer_is_an_attempt_without_status() -> None:
    async with httpx.AsyncClient() as client:
        sender = WebhookSender("http://127.0.0.1:9/webhooks/most", auth=STANDARD, schedule=FAST, client=client)
        outcome = await sender.send(EVENT)
    assert not outcome.delivered
    assert all(a.status is None and a.error for a in outcome.attempts)
    assert len(outcome.attempts) == 4


@pytest.mark.parametrize(
    "auth",
    [
        SenderAuth(AuthScheme.HEADER_TOKEN, (TOKEN,)),
        SenderAuth(AuthScheme.HEADER_TOKEN, (TOKEN,), token_header="X-Webhook-Token"),
        SenderAuth(AuthScheme.PATH_TOKEN, (TOKEN,)),
        SenderAuth(AuthScheme.STANDARD_WEBHOOKS, (SECRET, "whsec_" + base64.b64encode(os.urandom(24)).decode())),
    ],
    ids=["bearer", "custom-header", "path", "standard-rotating"],
)
async def test_authenticates_with_each_scheme(auth: SenderAuth) -> None:
    server = _receiver([204], auth)
    outcome = await _make(server, auth).send(EVENT)
    assert [a.status for a in outcome.attempts] == [204]
    if auth.scheme is AuthScheme.PATH_TOKEN:
        assert server.received[0].path == f"/webhooks/most/{TOKEN}"


async def test_bad_signature_on_the_first_attempt_then_correct_retries() -> None:
    server = _receiver([202])
    outcome = await _make(server, misbehaviour=Misbehaviour(bad_signature=1.0)).send(EVENT)
    assert [a.status for a in outcome.attempts] == [401, 202]


async def test_malformed_body_is_what_is_sent_and_reported() -> None:
    server = _receiver([202])
    outcome = await _make(server, misbehaviour=Misbehaviour(malformed=1.0)).send(EVENT)
    assert outcome.event.body == server.received[0].body != EVENT.body
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(outcome.event.body)


async def test_duplicates_deliver_the_same_message_twice() -> None:
    server = _receiver([202])
    outcome = await _make(server, misbehaviour=Misbehaviour(duplicate=1.0)).send(EVENT)
    assert outcome.duplicates_delivered == 1
    assert [r.body for r in server.received] == [EVENT.body, EVENT.body]


async def test_slow_sends_trickle_the_body_in_chunks() -> None:
    server = _receiver([202])
    outcome = await _make(server, misbehaviour=Misbehaviour(slow=1.0, slow_chunk_delay_s=0.001)).send(EVENT)
    assert outcome.delivered
    assert server.received[0].chunks > 1
    assert "content-length" not in server.received[0].headers
    assert server.received[0].body == EVENT.body


async def test_send_all_keeps_the_order_of_events() -> None:
    server = _receiver([202])
    events = [OutgoingWebhook(f"evt_{n}", "balance.low", b'{"n":%d}' % n) for n in range(20)]
    outcomes = await _make(server).send_all(events, concurrency=5)
    assert [o.event.event_id for o in outcomes] == [e.event_id for e in events]
    assert sorted(r.body for r in server.received) == sorted(e.body for e in events)
