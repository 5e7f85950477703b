"""An httpx transport that connects only to the address the SSRF guard approved for each request.

The host is resolved and checked right before the request (not only when the subscription was created), and
the request is then sent to that IP, with the original `Host` header and TLS server name: a DNS answer that
changes between check and connect (rebinding) cannot point the connection elsewhere. The inner transport (the
connection pool) is injected, so a test can put one there that fails if it is ever asked to connect.
"""

from __future__ import annotations

import httpx

from regpipe.delivery.address_guard import AddressGuard

__all__ = ["GuardedTransport"]


class GuardedTransport(httpx.AsyncBaseTransport):
    """Checks, pins the address, delegates; raises `BlockedAddressError` before any connection is attempted."""

    def __init__(self, guard: AddressGuard, inner: httpx.AsyncBaseTransport) -> None:
        self._guard = guard
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Approve the host's addresses, then send to the approved IP."""
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        address = await self._guard.approve(host, port)
        # httpx set the `Host` header from the original URL when the request was built; only the URL changes.
        request.url = request.url.copy_with(host=str(address))
        if request.url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the pool."""
        await self._inner.aclose()
