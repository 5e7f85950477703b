"""SSRF guard, at creation and at send time, with an injected resolver.

No test here connects anywhere but 127.0.0.1: the refused cases run with an inner transport that fails the test
if it is ever asked to send, so a broken guard shows as a failure, never as traffic.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from regpipe.delivery.address_guard import AddressGuard, IPAddress
from regpipe.delivery.attempt import send_attempt
from regpipe.delivery.errors import BlockedAddressError, InvalidSubscriptionError, UnsafeEndpointError
from regpipe.delivery.http_client import create_delivery_client
from regpipe.delivery.outcome import AttemptVerdict
from regpipe.runtime.http import serve_app

_NAMES = {
    "loopback.test": "127.0.0.1",
    "loopback6.test": "::1",
    "private.test": "10.1.2.3",
    "metadata.test": "169.254.169.254",
    "mapped.test": "::ffff:10.0.0.1",
    "public.test": "93.184.216.34",
}


class FakeResolver:
    """Resolves the test names; `rebind` changes an answer later (DNS rebinding)."""

    def __init__(self) -> None:
        self.answers = {name: [ipaddress.ip_address(a)] for name, a in _NAMES.items()}

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        if host in self.answers:
            return list(self.answers[host])
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            raise OSError(f"{host}: unknown name") from None


class NeverConnect(httpx.AsyncBaseTransport):
    """A pool that fails the test if the guard ever lets a request through to it."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pytest.fail(f"the guard let a request through to {request.url}")


class LoopbackOnly(httpx.AsyncBaseTransport):
    """A real pool that fails the test for any destination outside 127.0.0.1, and counts requests."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport(retries=0, trust_env=False)
        self.sent: list[httpx.URL] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != "127.0.0.1":
            pytest.fail(f"a request was about to leave loopback: {request.url}")
        self.sent.append(request.url)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize("name", ["loopback.test", "loopback6.test", "private.test", "metadata.test", "mapped.test"])
async def test_creation_refuses_names_resolving_to_internal_addresses(name: str) -> None:
    guard = AddressGuard(FakeResolver())
    with pytest.raises(UnsafeEndpointError):
        await guard.check_url(f"https://{name}/hook")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/x", "http://[::1]/x", "http://10.0.0.7/x", "http://169.254.169.254/latest/meta-data"]
)
async def test_creation_refuses_ip_literals(url: str) -> None:
    with pytest.raises(UnsafeEndpointError):
        await AddressGuard(FakeResolver()).check_url(url)


@pytest.mark.parametrize("url", ["ftp://public.test/x", "public.test/x", "https://user:pw@public.test/", "http:///x"])
async def test_creation_refuses_malformed_urls(url: str) -> None:
    with pytest.raises(InvalidSubscriptionError):
        await AddressGuard(FakeResolver()).check_url(url)


async def test_creation_accepts_public_and_allow_listed() -> None:
    await AddressGuard(FakeResolver()).check_url("https://public.test/hook")
    await AddressGuard.with_allow_list(FakeResolver(), ["127.0.0.0/8"]).check_url("http://loopback.test:8080/x")
    with pytest.raises(UnsafeEndpointError):  # the allow-list opens loopback, not the rest
        await AddressGuard.with_allow_list(FakeResolver(), ["127.0.0.0/8"]).check_url("http://metadata.test/")


def test_every_metadata_and_internal_range_is_refused() -> None:
    guard = AddressGuard(FakeResolver())
    for address in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.168.1.1", "172.16.0.1", "0.0.0.0",  # noqa: S104
                    "224.0.0.1", "ff02::1", "fe80::1", "100.64.0.1", "fc00::1"):  # fmt: skip
        assert guard.refusal(ipaddress.ip_address(address)) is not None, address
    assert guard.refusal(ipaddress.ip_address("93.184.216.34")) is None


@pytest.mark.parametrize("name", ["loopback.test", "loopback6.test", "private.test", "metadata.test", "mapped.test"])
async def test_send_time_refuses_without_connecting(name: str) -> None:
    client = create_delivery_client(AddressGuard(FakeResolver()), inner=NeverConnect())
    async with client:
        with pytest.raises(BlockedAddressError):
            await client.post(f"http://{name}/hook", content=b"{}")
        result = await send_attempt(client, f"http://{name}/hook", {}, b"{}")
    assert result.status_code is None
    assert result.error is not None
    assert result.error.startswith("blocked_address")
    assert result.classification.verdict is AttemptVerdict.RETRY


async def test_send_time_catches_a_name_rebound_after_creation() -> None:
    resolver = FakeResolver()
    resolver.answers["shop.test"] = [ipaddress.ip_address("93.184.216.34")]
    guard = AddressGuard(resolver)
    await guard.check_url("https://shop.test/hook")  # accepted at creation
    resolver.answers["shop.test"] = [ipaddress.ip_address("169.254.169.254")]  # the attacker re-points the name
    async with create_delivery_client(guard, inner=NeverConnect()) as client:
        result = await send_attempt(client, "https://shop.test/hook", {}, b"{}")
    assert result.error is not None
    assert "169.254.169.254" in result.error


async def test_one_internal_address_among_several_refuses_the_name() -> None:
    resolver = FakeResolver()
    resolver.answers["mixed.test"] = [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.1")]
    async with create_delivery_client(AddressGuard(resolver), inner=NeverConnect()) as client:
        with pytest.raises(BlockedAddressError):
            await client.post("http://mixed.test/", content=b"")


@pytest.fixture
async def local_receiver() -> AsyncIterator[tuple[int, list[Request]]]:
    seen: list[Request] = []

    async def hook(request: Request) -> Response:
        seen.append(request)
        await request.body()
        return PlainTextResponse("ok")

    async def redirect(request: Request) -> Response:
        seen.append(request)
        return Response(status_code=302, headers={"location": "http://169.254.169.254/latest/meta-data/"})

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"]), Route("/redirect", redirect, methods=["POST"])])
    async with serve_app(app) as port:
        yield port, seen


async def test_allow_listed_name_is_sent_to_the_approved_address(local_receiver: tuple[int, list[Request]]) -> None:
    port, seen = local_receiver
    pool = LoopbackOnly()
    guard = AddressGuard.with_allow_list(FakeResolver(), ["127.0.0.0/8"])
    async with create_delivery_client(guard, inner=pool) as client:
        result = await send_attempt(client, f"http://loopback.test:{port}/hook", {"x-test": "1"}, b"{}")
    assert result.classification.verdict is AttemptVerdict.DELIVERED
    assert result.response_body == "ok"
    assert [str(u) for u in pool.sent] == [f"http://127.0.0.1:{port}/hook"]
    assert seen[0].headers["host"] == f"loopback.test:{port}"  # the endpoint still sees its own name


async def test_redirect_is_not_followed(local_receiver: tuple[int, list[Request]]) -> None:
    port, seen = local_receiver
    pool = LoopbackOnly()  # following the redirect would fail the test before any packet left
    guard = AddressGuard.with_allow_list(FakeResolver(), ["127.0.0.0/8"])
    async with create_delivery_client(guard, inner=pool) as client:
        result = await send_attempt(client, f"http://127.0.0.1:{port}/redirect", {}, b"{}")
    assert result.status_code == 302
    assert result.classification.verdict is AttemptVerdict.RETRY
    assert len(pool.sent) == 1
    assert len(seen) == 1
