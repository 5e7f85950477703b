"""The one outgoing httpx client of a delivery process: pooled, guarded, no redirects, no proxies from the env."""

from __future__ import annotations

import httpx

from regpipe.delivery.address_guard import AddressGuard
from regpipe.delivery.guarded_transport import GuardedTransport

__all__ = ["create_delivery_client"]


def create_delivery_client(
    guard: AddressGuard,
    *,
    timeout_s: float = 10.0,
    max_connections: int = 512,
    inner: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A client whose every request passes the SSRF guard and is sent to the address it approved.

    `follow_redirects=False`: a redirect is an answer like any other non-2xx (retried), never a second request
    to a place nobody checked. `trust_env=False`: a proxy from the environment would bypass the guard.
    """
    pool = inner or httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        retries=0,
        trust_env=False,
    )
    return httpx.AsyncClient(
        transport=GuardedTransport(guard, pool),
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(timeout_s),
    )
