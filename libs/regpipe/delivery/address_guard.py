"""SSRF guard: which addresses an endpoint URL may resolve to.

Refused unless an allow-listed network contains them: loopback, private, link-local, multicast, reserved,
unspecified, shared (CGNAT) and the cloud metadata addresses. Every address a name resolves to must pass (a name
with one public and one private address is refused), IPv4-mapped IPv6 addresses are judged as IPv4. The resolver
is injected, so tests decide what a name resolves to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from regpipe.delivery.errors import BlockedAddressError, InvalidSubscriptionError, UnsafeEndpointError

__all__ = ["AddressGuard", "IPAddress", "Resolver", "SystemResolver", "validate_endpoint_url"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Metadata services of the big clouds; most are link-local or private already, listed so none is missed.
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "169.254.169.123", "fd00:ec2::254", "100.100.100.200")
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_MAX_URL = 2048


class Resolver(Protocol):
    """Resolves a host name to its addresses."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address `host` has (an IP literal resolves to itself); raise `OSError` when it does not resolve."""
        ...


class SystemResolver:
    """The operating system's resolver, through the event loop."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """`getaddrinfo`, TCP only."""
        literal = _literal(host)
        if literal is not None:
            return [literal]
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _refusal(address: IPAddress) -> str | None:
    """Why `address` is refused, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in _METADATA:
        return "cloud metadata"
    checks = (
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_unspecified, "unspecified"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (isinstance(address, ipaddress.IPv4Address) and address in _SHARED, "shared address space"),
    )
    for refused, why in checks:
        if refused:
            return why
    return None


def validate_endpoint_url(url: str) -> tuple[str, int]:
    """Check the URL's form (http/https, a host, no credentials); return (host, port)."""
    if len(url) > _MAX_URL:
        raise InvalidSubscriptionError("url", f"the URL is longer than {_MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidSubscriptionError("url", f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise InvalidSubscriptionError("url", "the URL must be http or https")
    if not parts.hostname:
        raise InvalidSubscriptionError("url", "the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidSubscriptionError("url", "credentials in the URL are not allowed (they would be stored)")
    if parts.fragment:
        raise InvalidSubscriptionError("url", "the URL must not have a fragment")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


@dataclass(frozen=True, slots=True)
class AddressGuard:
    """Resolves hosts and approves their addresses; `allowed` networks bypass the refusals (tests, internal hooks)."""

    resolver: Resolver
    allowed: tuple[_Network, ...] = ()

    @classmethod
    def with_allow_list(cls, resolver: Resolver, networks: Sequence[str]) -> AddressGuard:
        """A guard allowing the CIDRs given (e.g. `127.0.0.0/8` for local receivers)."""
        return cls(resolver, tuple(ipaddress.ip_network(n, strict=False) for n in networks))

    def refusal(self, address: IPAddress) -> str | None:
        """Why the guard refuses `address`, or None when it may be connected to."""
        if any(address in network for network in self.allowed):
            return None
        return _refusal(address)

    async def approve(self, host: str, port: int) -> IPAddress:
        """Resolve `host` and return the address to connect to; raise `BlockedAddressError` if any is refused."""
        try:
            addresses = await self.resolver.resolve(host, port)
        except OSError as exc:
            raise BlockedAddressError(f"{host} does not resolve: {exc}") from exc
        if not addresses:
            raise BlockedAddressError(f"{host} resolves to no address")
        for address in addresses:
            why = self.refusal(address)
            if why is not None:
                raise BlockedAddressError(f"{host} resolves to {address} ({why})")
        return addresses[0]

    async def check_url(self, url: str) -> None:
        """At creation: the URL's form and every address it resolves to; raise `InvalidSubscriptionError`."""
        host, port = validate_endpoint_url(url)
        try:
            await self.approve(host, port)
        except BlockedAddressError as exc:
            raise UnsafeEndpointError("url", str(exc)) from exc
