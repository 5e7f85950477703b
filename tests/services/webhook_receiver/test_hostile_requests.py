"""Hostile callers against the receiver served by uvicorn over a real socket (issue 12): an unauthenticated request
is answered 401 before its body is read, a body that trickles in is cut off with 408, and no more bodies than
configured are read at once (503 + Retry-After beyond). The requests are written by hand, byte by byte, because an
HTTP client always sends the body it was given."""

from __future__ import annotations

import asyncio
import base64
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import orjson
import pytest

from regpipe.kafka import ensure_topics
from regpipe.services.webhook_receiver.settings import WebhookReceiverSettings
from regpipe.stack.ports import free_port
from tests.kafka_io import end_offsets, read_since

from .running import serve

pytestmark = pytest.mark.integration

MOST_SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()
COLDMAIL_TOKEN = "tok_" + uuid.uuid4().hex
DECLARED = 400_000  # what the hostile requests announce; they never send it
ANSWER_DEADLINE_S = 60.0  # generous: the answers come in milliseconds when the receiver does not wait for the body


def _settings(bootstrap: str, *, max_concurrent: int = 64, read_timeout_s: float = 5.0) -> WebhookReceiverSettings:
    return WebhookReceiverSettings(
        kafka_bootstrap_servers=bootstrap,
        webhook_port=free_port(),
        most_webhook_secrets=MOST_SECRET,
        coldmail_webhook_secrets=COLDMAIL_TOKEN,
        webhook_max_concurrent_bodies=max_concurrent,
        webhook_body_read_timeout_s=read_timeout_s,
    )


@asynccontextmanager
async def _receiver(bootstrap: str, *, max_concurrent: int = 64, read_timeout_s: float = 5.0) -> AsyncIterator[int]:
    await ensure_topics(bootstrap)
    settings = _settings(bootstrap, max_concurrent=max_concurrent, read_timeout_s=read_timeout_s)
    async with serve(settings):
        yield settings.webhook_port


class _RawRequest:
    """One HTTP/1.1 request written by hand: the head and part of the body now, the rest maybe never."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def start(cls, port: int, path: str, headers: dict[str, str], first_bytes: bytes) -> _RawRequest:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(head.encode("latin-1") + b"\r\n" + first_bytes)
        await writer.drain()
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def answer(self) -> tuple[int, dict[str, str], dict[str, str]]:
        """Status, headers and JSON body of the answer, waiting up to `ANSWER_DEADLINE_S`."""
        async with asyncio.timeout(ANSWER_DEADLINE_S):
            head = await self.reader.readuntil(b"\r\n\r\n")
            status_line, *lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await self.reader.readexactly(int(headers["content-length"]))
        return int(status_line.split()[1]), headers, orjson.loads(body)

    async def closed_by_server(self) -> bool:
        """True once the server closed the connection (end of stream), within the deadline."""
        async with asyncio.timeout(ANSWER_DEADLINE_S):
            return await self.reader.read() == b""

    def close(self) -> None:
        self.writer.close()


def _declared(length: int = DECLARED) -> dict[str, str]:
    return {"content-type": "application/json", "content-length": str(length)}


def _signature(timestamp: str, signature: str) -> Callable[[], dict[str, str]]:
    return lambda: {"webhook-id": "msg_1", "webhook-timestamp": timestamp, "webhook-signature": signature}


def _now() -> str:
    return str(int(time.time()))


@pytest.mark.parametrize(
    ("path", "headers", "reason"),
    [
        ("/webhooks/coldmail/tok_wrong_token_0123456789abcdef", dict, "invalid_token"),
        ("/webhooks/most", dict, "missing_signature"),
        ("/webhooks/most", _signature("1600000000", "v1,AAAA"), "timestamp_out_of_tolerance"),
        ("/webhooks/most", _signature("now", "v1,AAAA"), "invalid_timestamp"),
        # When the test runs, not at collection: a whole suite can outlast the tolerance.
        ("/webhooks/most", lambda: _signature(_now(), "v1,not-base64 v2,AAAA")(), "invalid_signature"),
    ],
)
async def test_an_unauthenticated_request_is_refused_before_its_body_is_read(
    kafka_bootstrap: str, path: str, headers: Callable[[], dict[str, str]], reason: str
) -> None:
    # Finding: the body (up to the size cap) was read before the request was authenticated. Here the body never
    # comes in full, so only a receiver that answers from the headers alone can answer at all.
    async with _receiver(kafka_bootstrap) as port:
        request = await _RawRequest.start(port, path, {**_declared(), **headers()}, b'{"id": "')
        try:
            status, answer_headers, answer = await request.answer()
            assert (status, answer["error"]) == (401, reason)
            assert answer_headers["connection"] == "close"  # the rest of the body is never read
            assert await request.closed_by_server()
        finally:
            request.close()


async def test_a_body_that_trickles_in_is_answered_408(kafka_bootstrap: str) -> None:
    # Finding: no read timeout; a sender could hold a request (and its buffers) open for ever.
    async with _receiver(kafka_bootstrap, read_timeout_s=0.5) as port:
        path = f"/webhooks/coldmail/{COLDMAIL_TOKEN}"
        request = await _RawRequest.start(port, path, _declared(1000), b"{")
        try:
            status, answer_headers, answer = await request.answer()
            assert (status, answer["error"]) == (408, "body_timeout")
            assert answer_headers["connection"] == "close"
            assert await request.closed_by_server()
        finally:
            request.close()


async def test_no_more_bodies_than_configured_are_read_at_once(kafka_bootstrap: str) -> None:
    # Finding: no concurrency limit; authenticated-looking requests could each pin a body-sized buffer.
    run = uuid.uuid4().hex
    await ensure_topics(kafka_bootstrap)
    since = await end_offsets(kafka_bootstrap)
    async with _receiver(kafka_bootstrap, max_concurrent=2, read_timeout_s=60) as port:
        path = f"/webhooks/coldmail/{COLDMAIL_TOKEN}"
        bodies = [orjson.dumps({"event": "mailbox.created", "eventId": f"{run}-{n}", "data": {}}) for n in range(3)]
        stalled = [await _RawRequest.start(port, path, _declared(len(body)), body[:5]) for body in bodies[:2]]
        try:
            # The two stalled bodies hold both slots as soon as the receiver reads them; until then a third
            # request may still get in, so ask until it is turned away (the slots are held for 60 s).
            async with asyncio.timeout(ANSWER_DEADLINE_S):
                while True:
                    third = await _RawRequest.start(port, path, _declared(len(bodies[2])), bodies[2])
                    status, headers, answer = await third.answer()
                    third.close()
                    if status == 503:
                        break
                    await asyncio.sleep(0.05)
            assert answer["error"] == "receiver_busy"
            assert headers["retry-after"] == "5"
            for request, body in zip(stalled, bodies[:2], strict=True):
                await request.send(body[5:])  # released: both bodies complete and are published
                status, _, _ = await request.answer()
                assert status == 202
            accepted = await _RawRequest.start(port, path, _declared(len(bodies[2])), bodies[2])
            assert (await accepted.answer())[0] == 202
            accepted.close()
        finally:
            for request in stalled:
                request.close()
    records = await read_since(
        kafka_bootstrap, since, until=lambda rs: set(bodies) <= {r.value for r in rs}, timeout_s=60
    )
    assert set(bodies) <= {record.value for record in records}
