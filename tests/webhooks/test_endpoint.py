"""Every answer of the receiver that does not need Kafka to acknowledge: refusals, 503 before the producer is
connected, health, metrics and the OpenAPI document. (202s are tested on the real broker in tests/services.)"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.types import Message

from regpipe.ingest.publisher import RawPublisher
from regpipe.kafka.producer import create_producer
from regpipe.providers.coldmail.webhook import COLDMAIL_WEBHOOK
from regpipe.providers.most.webhook import MOST_WEBHOOK
from regpipe.webhooks.app import create_receiver_app
from regpipe.webhooks.auth import AuthScheme
from regpipe.webhooks.endpoint import WebhookEndpoint
from regpipe.webhooks.limits import BodyLimits
from regpipe.webhooks.producer_link import ProducerLink
from regpipe.webhooks.route import ProviderRoute
from regpipe.webhooks.standard_webhooks import signature_headers

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()
TOKEN = "tok_endpoint_test_0123456789"
HEADER_TOKEN = "tok_header_test_0123456789ab"
BODY = b'{"id":"evt_endpoint","type":"balance.low","data":{"threshold":100}}'
MAX_BODY = 1024


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The receiver app with a producer that is never started (nothing listens on its bootstrap address)."""
    producer = create_producer("127.0.0.1:9", client_id="endpoint-test")
    link = ProducerLink(producer)
    routes = {
        "most": ProviderRoute.configure("most", MOST_WEBHOOK, secrets=[SECRET]),
        "coldmail": ProviderRoute.configure("coldmail", COLDMAIL_WEBHOOK, secrets=[TOKEN]),
        "most-token": ProviderRoute.configure(
            "most-token", MOST_WEBHOOK, secrets=[HEADER_TOKEN], scheme=AuthScheme.HEADER_TOKEN
        ),
    }
    app = create_receiver_app(
        service="endpoint-test",
        routes=routes,
        publisher=RawPublisher(producer),
        link=link,
        limits=BodyLimits(max_bytes=MAX_BODY),
        retry_after_s=7,
    )
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver") as http:
            yield http
    finally:
        await link.close()


def _signed(body: bytes = BODY) -> dict[str, str]:
    return {**signature_headers([SECRET], "msg_endpoint", body), "content-type": "application/json"}


def _rejected(reason: str, source: str = "most") -> float:
    value = REGISTRY.get_sample_value(
        "regpipe_ingest_rejected_total", {"source": source, "transport": "webhook", "reason": reason}
    )
    return value or 0.0


async def test_authenticated_but_not_connected_to_kafka_is_503_with_retry_after(client: httpx.AsyncClient) -> None:
    answer = await client.post("/webhooks/most", content=BODY, headers=_signed())
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "7"
    assert answer.json() == {"error": "kafka_unavailable", "message": "the receiver is not connected to Kafka yet"}


@pytest.mark.parametrize(
    ("path", "headers", "reason"),
    [
        ("/webhooks/most", lambda: {"content-type": "application/json"}, "missing_signature"),
        # Signed when the test runs, not when it is collected: a whole suite can outlast the 5 min tolerance.
        ("/webhooks/most", lambda: signature_headers(["whsec_" + "A" * 32], "m", BODY), "invalid_signature"),
        ("/webhooks/coldmail/tok_wrong_token_0123456789", dict, "invalid_token"),
        ("/webhooks/most-token", lambda: {"authorization": "Bearer tok_wrong_token_0123456789"}, "invalid_token"),
        ("/webhooks/most-token", dict, "missing_token"),
    ],
)
async def test_unauthenticated_is_401_and_counted(
    client: httpx.AsyncClient, path: str, headers: Callable[[], dict[str, str]], reason: str
) -> None:
    source = "coldmail" if "coldmail" in path else "most"
    before = _rejected(reason, source)
    answer = await client.post(path, content=BODY, headers=headers())
    assert answer.status_code == 401
    assert answer.json()["error"] == reason
    assert _rejected(reason, source) == before + 1


async def test_authentication_is_checked_before_the_body_is_judged(client: httpx.AsyncClient) -> None:
    # An unauthenticated caller learns nothing about what the receiver would accept.
    answer = await client.post("/webhooks/most", content=b"\xff", headers={"content-type": "text/xml"})
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("body", "content_type", "extra", "reason"),
    [
        (BODY, "application/x-www-form-urlencoded", {}, "unsupported_content_type"),
        (BODY, "text/xml", {}, "unsupported_content_type"),
        (BODY, "application/json; charset=latin-1", {}, "unsupported_charset"),
        (BODY, "application/json", {"content-encoding": "gzip"}, "unsupported_content_encoding"),
        (b"", "application/json", {}, "empty_body"),
    ],
)
async def test_unreadable_requests_are_400_with_a_clear_reason(
    client: httpx.AsyncClient, body: bytes, content_type: str, extra: dict[str, str], reason: str
) -> None:
    headers = {**_signed(body), "content-type": content_type, **extra}
    answer = await client.post("/webhooks/most", content=body, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["error"] == reason


@pytest.mark.parametrize("content_type", ["application/json; charset=UTF-8", "application/cloudevents+json", None])
async def test_json_media_types_are_readable(client: httpx.AsyncClient, content_type: str | None) -> None:
    headers = _signed()
    if content_type is None:
        del headers["content-type"]
    else:
        headers["content-type"] = content_type
    answer = await client.post("/webhooks/most", content=BODY, headers=headers)
    assert answer.status_code == 503  # readable and authenticated: only Kafka is missing


@pytest.mark.parametrize("body", [b'{"id": "evt_cut", "type": "balance.lo', b"\xff\xfe{}"])
async def test_an_authenticated_body_that_is_not_json_is_not_refused(client: httpx.AsyncClient, body: bytes) -> None:
    answer = await client.post("/webhooks/most", content=body, headers=_signed(body))
    assert answer.status_code == 503  # on its way to Kafka, not a 400


async def test_too_large_by_content_length_is_413(client: httpx.AsyncClient) -> None:
    body = b'{"pad":"' + b"x" * MAX_BODY + b'"}'
    answer = await client.post("/webhooks/most", content=body, headers=_signed(body))
    assert answer.status_code == 413
    assert answer.json()["error"] == "body_too_large"


async def test_too_large_as_streamed_without_content_length_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * (MAX_BODY // 2)

    answer = await client.post("/webhooks/coldmail/" + TOKEN, content=chunks())
    assert answer.request.headers.get("content-length") is None
    assert answer.status_code == 413


@pytest.mark.parametrize(
    "path",
    ["/webhooks/nobody", "/webhooks/most/extra", "/webhooks/coldmail", "/webhooks/coldmail/a/b", "/webhooks/"],
)
async def test_unknown_routes_are_404(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.post(path, content=BODY, headers=_signed())
    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"


async def test_other_methods_are_405(client: httpx.AsyncClient) -> None:
    answer = await client.get("/webhooks/most")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"


async def test_health_readiness_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["reason"] == "kafka producer not started"
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert "regpipe_ingest_rejected_total" in metrics.text


async def test_openapi_documents_the_webhook_routes(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/webhooks/{provider}"]["post"]
    assert set(operation["responses"]) == {"202", "400", "401", "404", "405", "408", "413", "503"}
    assert operation["parameters"][0]["schema"]["enum"] == ["coldmail", "most", "most-token"]
    assert document["paths"]["/webhooks/{provider}/{token}"]["post"]["parameters"][0]["schema"]["enum"] == ["coldmail"]
    assert {"AcceptedAnswer", "ErrorAnswer"} <= set(document["components"]["schemas"])


async def test_a_request_refused_by_its_headers_never_has_its_body_read() -> None:
    # At the ASGI level, where "read" is exact: the endpoint must answer without asking for a single body chunk.
    producer = create_producer("127.0.0.1:9", client_id="endpoint-test-unread")
    routes = {"coldmail": ProviderRoute.configure("coldmail", COLDMAIL_WEBHOOK, secrets=[TOKEN])}
    endpoint = WebhookEndpoint(
        routes, RawPublisher(producer), ProducerLink(producer), limits=BodyLimits(max_bytes=MAX_BODY), retry_after_s=7
    )
    asked_for_body = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal asked_for_body
        asked_for_body += 1
        await asyncio.Event().wait()  # a body that never comes
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/webhooks/coldmail/tok_wrong_token_0123456789",
        "headers": [(b"content-length", b"%d" % (100 * MAX_BODY)), (b"content-type", b"application/json")],
    }
    async with asyncio.timeout(30):
        await endpoint(scope, receive, send)
    assert asked_for_body == 0
    assert sent[0]["status"] == 401  # not 413: who is asking is settled before anything about the body
    assert (b"connection", b"close") in sent[0]["headers"]
