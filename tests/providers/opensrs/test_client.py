"""The OpenSRS client against the simulator on a loopback port: signed calls, reply handling, error mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from regpipe.providers.opensrs.client import OpenSRSClient
from regpipe.providers.opensrs.envelope import OpsValue
from regpipe.providers.opensrs.errors import AuthenticationError, RefusedReplyError, ReplyError, TransportError
from regpipe.providers.opensrs.protocol import decode_reply, encode_reply
from regpipe.providers.opensrs.signature import verify
from regpipe.simulators.opensrs.api import Fault, FaultRates, OpenSRSSimulator, serve_simulator
from regpipe.stack.ports import free_port

USER = "reseller-client"
KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
async def simulator() -> OpenSRSSimulator:
    return OpenSRSSimulator({USER: KEY}, seed=7, rates=FaultRates(slow_s=1.0))


@pytest.fixture
async def url(simulator: OpenSRSSimulator) -> AsyncIterator[str]:
    async with serve_simulator(simulator) as base_url:
        yield base_url


@pytest.fixture
async def client(url: str) -> AsyncIterator[OpenSRSClient]:
    async with OpenSRSClient(url, username=USER, api_key=KEY, timeout_s=5) as opensrs:
        yield opensrs


async def test_poll_returns_the_reply_bytes_and_its_events_until_acked(
    simulator: OpenSRSSimulator, client: OpenSRSClient
) -> None:
    queued = simulator.generate(USER, 5)
    first = await client.poll(3)
    assert first.event_ids == tuple(event["event_id"] for event in queued[:3])
    assert [event.provider_type for event in first.events] == [
        f"{event['object']}.{event['event']}" for event in queued[:3]
    ]
    assert decode_reply(first.body) == first.reply  # the bytes are the reply itself, untouched
    again = await client.poll(3)
    assert again.event_ids == first.event_ids  # nothing was ACKed: the same events come back

    acks = [await client.ack(event_id) for event_id in first.event_ids]
    assert [ack.events_remaining for ack in acks] == [4, 3, 2]
    assert all(ack.known for ack in acks)
    assert (await client.poll(3)).event_ids == tuple(event["event_id"] for event in queued[3:])
    assert [ack.event_id for ack in simulator.acked(USER)] == list(first.event_ids)


async def test_default_limit_is_one_and_an_empty_queue_gives_no_events(
    simulator: OpenSRSSimulator, client: OpenSRSClient
) -> None:
    empty = await client.poll()
    assert empty.event_ids == ()
    assert empty.reply.is_success
    simulator.generate(USER, 2)
    assert len((await client.poll()).event_ids) == 1


async def test_ack_of_an_unknown_id_is_harmless(client: OpenSRSClient) -> None:
    ack = await client.ack("ffffffffffffffffffffffffffffffff")
    assert not ack.known
    assert ack.events_remaining is None


async def test_requests_carry_the_documented_headers_and_a_valid_signature(url: str) -> None:
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request)

    async with OpenSRSClient(url, username=USER, api_key=KEY) as opensrs:
        opensrs._http.event_hooks["request"].append(record)  # observe what goes on the wire
        await opensrs.poll(2)
    (request,) = seen
    assert request.method == "POST"
    assert request.url.path == "/"
    assert request.headers["content-type"] == "text/xml"
    assert request.headers["x-username"] == USER
    assert request.headers["content-length"] == str(len(request.content))
    assert verify(request.content, KEY, request.headers["x-signature"])
    assert b'<item key="limit">2</item>' in request.content


async def test_wrong_key_is_a_non_retriable_authentication_error(url: str) -> None:
    async with OpenSRSClient(url, username=USER, api_key="wrong") as opensrs:
        with pytest.raises(AuthenticationError) as caught:
            await opensrs.poll()
    assert caught.value.response_code == 401
    assert not caught.value.retriable


async def test_unknown_user_is_a_non_retriable_authentication_error(url: str) -> None:
    async with OpenSRSClient(url, username="nobody", api_key=KEY) as opensrs:
        with pytest.raises(AuthenticationError):
            await opensrs.ack("6887c7d3838dcaec7517c531df527bb7")


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        (Fault.CODE_400, ReplyError, 400),
        (Fault.CODE_486, ReplyError, 486),
        (Fault.HTTP_500, TransportError, 500),
        (Fault.HTTP_503, TransportError, 503),
        (Fault.MALFORMED, TransportError, None),
    ],
)
async def test_transient_faults_are_retriable(
    simulator: OpenSRSSimulator, client: OpenSRSClient, fault: Fault, error: type[Exception], code: int | None
) -> None:
    simulator.generate(USER, 1)
    simulator.fail_next(fault, action="POLL")
    with pytest.raises(error) as caught:
        await client.poll()
    assert getattr(caught.value, "retriable", False)
    if isinstance(caught.value, ReplyError):
        assert caught.value.response_code == code
    elif isinstance(caught.value, TransportError):
        assert caught.value.status_code == code
    assert len((await client.poll()).event_ids) == 1  # the next call goes through


async def test_limit_over_100_is_a_data_error_from_the_server(client: OpenSRSClient) -> None:
    with pytest.raises(ValueError, match="limit"):
        await client.poll(101)  # refused before sending


async def test_timeout_is_retriable(simulator: OpenSRSSimulator, url: str) -> None:
    simulator.fail_next(Fault.SLOW)
    async with OpenSRSClient(url, username=USER, api_key=KEY, timeout_s=0.2) as opensrs:
        with pytest.raises(TransportError, match="timed out") as caught:
            await opensrs.poll()
    assert caught.value.retriable


async def test_connection_refused_is_retriable() -> None:
    async with OpenSRSClient(f"http://127.0.0.1:{free_port()}", username=USER, api_key=KEY) as opensrs:
        with pytest.raises(TransportError) as caught:
            await opensrs.poll()
    assert caught.value.retriable


def _fixed_reply(status: int, body: bytes) -> Starlette:
    """An app answering every POST with one canned reply (shapes the simulator never sends)."""

    async def answer(request: Request) -> Response:
        await request.body()
        return Response(body, status_code=status, media_type="text/xml")

    return Starlette(routes=[Route("/", answer, methods=["POST"])])


async def _call_canned(status: int, body: bytes) -> Exception:
    transport = httpx.ASGITransport(app=_fixed_reply(status, body))
    async with OpenSRSClient("http://opensrs.test", username=USER, api_key=KEY, transport=transport) as opensrs:
        with pytest.raises((TransportError, ReplyError)) as caught:
            await opensrs.poll()
    return caught.value


async def test_http_4xx_is_not_retriable_but_429_is() -> None:
    refused = await _call_canned(404, b"not here")
    assert isinstance(refused, TransportError)
    assert not refused.retriable
    limited = await _call_canned(429, b"slow down")
    assert isinstance(limited, TransportError)
    assert limited.retriable


async def test_reply_codes_map_to_retriable_or_not() -> None:
    expectations = {300: True, 310: True, 400: True, 405: True, 486: True}
    expectations |= {410: False, 415: False, 430: False, 435: False, 460: False, 465: False, 480: False}
    for code, retriable in expectations.items():
        error = await _call_canned(200, encode_reply(is_success=False, response_code=code, response_text="x"))
        assert isinstance(error, ReplyError)
        assert error.response_code == code
        assert error.retriable is retriable, code
        assert isinstance(error, AuthenticationError) is (code in (401, 410, 415))


async def test_events_that_are_not_a_list_are_a_retriable_shape_error() -> None:
    body = encode_reply(is_success=True, response_code=200, response_text="ok", attributes={"events": "nope"})
    error = await _call_canned(200, body)
    assert isinstance(error, TransportError)
    assert error.retriable


async def test_events_without_id_are_not_acked_but_valid_ones_are_listed() -> None:
    good: OpsValue = {
        "event": "CREATED",
        "event_id": "a" * 32,
        "event_date": "2025-01-01T00:00:00Z",
        "object": "DOMAIN",
    }
    events: list[OpsValue] = [good, {"event": "CREATED", "object": "DOMAIN"}, {"event_id": "b" * 32}]
    body = encode_reply(is_success=True, response_code=200, response_text="ok", attributes={"events": events})
    transport = httpx.ASGITransport(app=_fixed_reply(200, body))
    async with OpenSRSClient("http://opensrs.test", username=USER, api_key=KEY, transport=transport) as opensrs:
        result = await opensrs.poll(3)
    assert result.event_ids == ("a" * 32, "b" * 32)
    assert [event.event_id for event in result.events] == ["a" * 32]
    assert result.body == body


def test_repr_does_not_show_the_key() -> None:
    client = OpenSRSClient("http://opensrs.test", username=USER, api_key=KEY)
    assert KEY not in repr(client)
    assert USER in repr(client)


async def test_a_reply_declaring_entities_is_refused_with_its_bytes_and_without_quoting_them() -> None:
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE OPS_envelope [<!ENTITY leak SYSTEM "file:///etc/passwd">]>'
        b"<OPS_envelope><body><data_block><dt_scalar>&leak;</dt_scalar></data_block></body></OPS_envelope>"
    )
    transport = httpx.MockTransport(
        lambda _: httpx.Response(200, content=hostile, headers={"Content-Type": "text/xml"})
    )
    async with OpenSRSClient("http://127.0.0.1:9", username="u", api_key=KEY, transport=transport) as client:
        with pytest.raises(RefusedReplyError) as raised:
            await client.poll(5)
    assert raised.value.unsafe is True
    assert raised.value.body == hostile  # kept whole, for the poller to keep
    assert raised.value.retriable is True
    assert "EntitiesForbidden" in str(raised.value)
    assert "passwd" not in str(raised.value)
    assert "leak" not in str(raised.value)
