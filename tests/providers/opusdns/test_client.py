"""The OpusDNS client against the simulator served on a loopback port: exact bytes, acknowledgements, retries
(429 with Retry-After, 5xx, transport errors), non-retriable errors, and both ways of authenticating."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from regpipe.providers.opusdns.auth import ClientCredentialsAuth
from regpipe.providers.opusdns.client import OpusDnsClient, RetryPolicy, make_auth
from regpipe.providers.opusdns.errors import (
    OpusDnsAuthError,
    OpusDnsPayloadError,
    OpusDnsServerError,
    OpusDnsTransportError,
)
from regpipe.simulators.opusdns import ALL_PERMISSIONS, Endpoint, Fault, OpusDnsSimulator, serve_simulator

_KEY = "opk_full_access"
_READ_ONLY = "opk_read_only"
_CLIENT_ID = "organization_01h455e1yewzjmrqt7xk5g8w6f"
_SECRET = "client-secret-value"
_FAST = RetryPolicy(attempts=4, timeout_s=20, wait_initial_s=0.01, wait_max_s=0.05, wait_jitter_s=0.01)


@pytest.fixture
def sim() -> OpusDnsSimulator:
    return OpusDnsSimulator(
        api_keys={_KEY: ALL_PERMISSIONS, _READ_ONLY: {"events:read"}},
        clients={_CLIENT_ID: (_SECRET, ALL_PERMISSIONS)},
        seed=42,
    )


@pytest.fixture
async def base_url(sim: OpusDnsSimulator) -> AsyncIterator[str]:
    async with serve_simulator(sim) as url:
        yield url


def _client(base_url: str, key: str = _KEY, retry: RetryPolicy = _FAST) -> OpusDnsClient:
    return OpusDnsClient(base_url, make_auth(base_url, api_key=SecretStr(key)), retry=retry)


def _statuses(sim: OpusDnsSimulator, endpoint: Endpoint) -> list[int]:
    return [record.status for record in sim.requests if record.endpoint is endpoint]


async def test_list_events_returns_the_exact_bytes_and_the_oldest_first(sim: OpusDnsSimulator, base_url: str) -> None:
    sim.generate(7, legacy_share=0.0)
    async with _client(base_url) as client:
        listing = await client.list_events(page_size=5)
    async with httpx.AsyncClient(base_url=base_url) as plain:
        same = await plain.get(
            "/v1/events",
            params={"page": 1, "page_size": 5, "sort_by": "created_on", "sort_order": "asc", "acknowledged": "false"},
            headers={"X-Api-Key": _KEY, "X-Datetime-Format": "rfc3339"},
        )
    assert listing.body == same.content
    assert [event.event_id for event in listing.page.results] == [event["event_id"] for event in sim.pending()[:5]]
    assert listing.page.pagination.total_items == 7
    assert b'Z"' in listing.body  # the client asked for RFC 3339 times


async def test_acknowledge_applies_once_and_a_repeat_is_harmless(sim: OpusDnsSimulator, base_url: str) -> None:
    (event,) = sim.generate(1)
    async with _client(base_url) as client:
        assert await client.acknowledge(event["event_id"]) is True
        assert await client.acknowledge(event["event_id"]) is False  # 404 ERROR_EVENT_NOT_FOUND: already done
        assert await client.acknowledge("event_01h45ytscbebyvny4gc8cr8ma2") is False  # unknown id: same answer
        fetched = await client.get_event(event["event_id"])
    assert [ack.event_id for ack in sim.acked()] == [event["event_id"]]
    assert fetched.acknowledged_on is not None
    assert _statuses(sim, Endpoint.ACK) == [204, 404, 404]


async def test_429_waits_as_long_as_retry_after_says(sim: OpusDnsSimulator, base_url: str) -> None:
    sim.generate(2)
    sim.rates.retry_after_s = 1
    sim.fail_next(Fault.RATE_LIMITED, 1, endpoint=Endpoint.LIST)
    async with _client(base_url) as client:
        started = time.monotonic()
        listing = await client.list_events()
        elapsed = time.monotonic() - started
    assert len(listing.page.results) == 2
    assert _statuses(sim, Endpoint.LIST) == [429, 200]
    # Not the 10 ms backoff of the policy: the provider's Retry-After. The upper bound only rules out waiting on
    # something else (the 20 s timeout); a loaded machine can add seconds to two local requests.
    assert 0.95 <= elapsed < 15.0


async def test_5xx_is_retried_and_gives_up_after_the_attempts(sim: OpusDnsSimulator, base_url: str) -> None:
    sim.generate(1)
    sim.fail_next(Fault.HTTP_503, 1)
    sim.fail_next(Fault.HTTP_502, 1)
    async with _client(base_url) as client:
        listing = await client.list_events()
        assert len(listing.page.results) == 1
        sim.fail_next(Fault.HTTP_500, 10)
        with pytest.raises(OpusDnsServerError) as raised:
            await client.list_events()
    assert raised.value.retriable
    assert _statuses(sim, Endpoint.LIST) == [503, 502, 200, 500, 500, 500, 500]


async def test_wrong_api_key_is_401_and_not_retried(sim: OpusDnsSimulator, base_url: str) -> None:
    async with _client(base_url, key="opk_wrong") as client:
        with pytest.raises(OpusDnsAuthError) as raised:
            await client.list_events()
    assert (raised.value.status, raised.value.code, raised.value.retriable) == (401, "ERROR_AUTHENTICATION", False)
    assert _statuses(sim, Endpoint.LIST) == [401]


async def test_a_key_without_events_manage_cannot_acknowledge(sim: OpusDnsSimulator, base_url: str) -> None:
    (event,) = sim.generate(1)
    async with _client(base_url, key=_READ_ONLY) as client:
        assert len((await client.list_events()).page.results) == 1
        with pytest.raises(OpusDnsAuthError) as raised:
            await client.acknowledge(event["event_id"])
    assert raised.value.status == 403
    assert sim.acked() == []


async def test_a_malformed_page_is_a_retriable_payload_error(sim: OpusDnsSimulator, base_url: str) -> None:
    sim.generate(3)
    sim.fail_next(Fault.MALFORMED, 1)
    async with _client(base_url) as client:
        with pytest.raises(OpusDnsPayloadError) as raised:
            await client.list_events()
        assert raised.value.retriable
        assert len((await client.list_events()).page.results) == 3


async def test_no_server_is_a_retriable_transport_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        async with _client(f"http://127.0.0.1:{port}") as client:
            with pytest.raises(OpusDnsTransportError) as raised:
                await client.list_events()
    assert raised.value.retriable


async def test_oauth_token_is_fetched_once_and_renewed_before_expiry(sim: OpusDnsSimulator, base_url: str) -> None:
    sim.generate(2)
    now = [1000.0]
    auth = ClientCredentialsAuth(
        _CLIENT_ID, SecretStr(_SECRET), token_url=f"{base_url}/v1/auth/token", clock=lambda: now[0]
    )
    async with OpusDnsClient(base_url, auth, retry=_FAST) as client:
        await client.list_events()
        await client.list_events()
        assert sim.tokens_issued == 1
        assert auth.renews_in_s == pytest.approx(3600 - 300)
        now[0] += 3600 - 300  # the renewal margin before the 3600 s expiry is reached
        page = await client.list_events()
        assert sim.tokens_issued == 2
        sim.revoke_tokens()  # a token the provider no longer accepts: fetched again, request repeated once
        await client.acknowledge(page.page.results[0].event_id)
    assert sim.tokens_issued == 3
    assert len(sim.acked()) == 1
    assert _statuses(sim, Endpoint.TOKEN) == [200, 200, 200]


async def test_oauth_bad_client_secret_is_not_retried(sim: OpusDnsSimulator, base_url: str) -> None:
    auth = make_auth(base_url, client_id=_CLIENT_ID, client_secret=SecretStr("wrong"))
    async with OpusDnsClient(base_url, auth, retry=_FAST) as client:
        with pytest.raises(OpusDnsAuthError) as raised:
            await client.list_events()
    assert raised.value.status == 401
    assert _statuses(sim, Endpoint.TOKEN) == [401]
    assert _statuses(sim, Endpoint.LIST) == []


def test_credentials_are_required() -> None:
    with pytest.raises(ValueError, match="API key"):
        make_auth("http://127.0.0.1:1", api_key=SecretStr(""))
    assert isinstance(make_auth("http://x", client_id="c", client_secret=SecretStr("s")), ClientCredentialsAuth)
