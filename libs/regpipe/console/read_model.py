"""The aggregator's read API as the console uses it: domains, timelines, listings, batches."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from pydantic import TypeAdapter

from regpipe.aggregate.read.listings import ListingItem, ListingKind, ListingQuery
from regpipe.aggregate.read.views import BatchView, DomainState, DomainView, OrderView, Page, TimelineItem
from regpipe.console.http_source import HttpSource

__all__ = ["ReadModelClient"]

_DOMAINS = TypeAdapter(Page[DomainState])
_TIMELINE = TypeAdapter(Page[TimelineItem])
_LISTING = TypeAdapter(Page[ListingItem])


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class ReadModelClient:
    """Typed calls of the read API (`regpipe.aggregate.api`)."""

    def __init__(self, source: HttpSource) -> None:
        self._source = source

    async def search_domains(self, prefix: str, *, cursor: str | None = None, limit: int = 50) -> Page[DomainState]:
        """Domains whose name starts with `prefix` (either IDN form)."""
        params = {"prefix": prefix, "cursor": cursor, "limit": limit}
        return await self._source.call(_DOMAINS, "GET", "/domain-search", params=params)

    async def domain(self, name: str) -> DomainView:
        """Every provider/account state of a domain."""
        return await self._source.call(DomainView, "GET", f"/domains/{quote(name, safe='')}")

    async def timeline(self, name: str, *, cursor: str | None = None, limit: int = 50) -> Page[TimelineItem]:
        """A domain's events, newest first."""
        params = {"cursor": cursor, "limit": limit}
        return await self._source.call(_TIMELINE, "GET", f"/domains/{quote(name, safe='')}/timeline", params=params)

    async def listing(
        self, kind: ListingKind, query: ListingQuery, *, cursor: str | None = None, limit: int = 50
    ) -> Page[ListingItem]:
        """One page of order batches, orders, tasks or transfers, newest first."""
        params = {
            "provider": query.provider,
            "status": query.status,
            "since": _time(query.since),
            "until": _time(query.until),
            "cursor": cursor,
            "limit": limit,
        }
        return await self._source.call(_LISTING, "GET", f"/{kind.value}", params=params)

    async def batch(self, batch_id: str) -> BatchView:
        """A Most order batch with every order."""
        return await self._source.call(BatchView, "GET", f"/order-batches/{quote(batch_id, safe='')}")

    async def order(self, order_id: str) -> OrderView:
        """One order."""
        return await self._source.call(OrderView, "GET", f"/orders/{quote(order_id, safe='')}")
