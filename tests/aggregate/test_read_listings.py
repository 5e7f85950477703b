"""The console's listings on real PostgreSQL: domain search by prefix in either IDN form, and order batches, orders,
tasks and transfers newest first, filtered and cursor-paged without repeats; the same through the read API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from regpipe.aggregate.api import create_read_api
from regpipe.aggregate.read import BadQueryError
from regpipe.aggregate.read.listings import ListingKind, ListingQuery, domain_timeline, list_recent, search_domains
from regpipe.aggregate.store import apply_events
from regpipe.contract import EventType, Outcome, Source
from tests.aggregate.databases import fresh_database
from tests.aggregate.events import batch_event, domain_event, order_event

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, tzinfo=UTC)
TOKEN = "listing-test-token"


@pytest.fixture
async def pool(pg_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    created = await asyncpg.create_pool(await fresh_database(pg_dsn), min_size=1, max_size=4)
    s = Source.OPENSRS
    events = [
        domain_event("idn", s, EventType.DOMAIN_REGISTERED, "bücher.example", minute=1),
        domain_event("idn2", s, EventType.DOMAIN_REGISTERED, "bücherei.example", minute=1),
        *[
            domain_event(f"p{i}", Source.OPUSDNS, EventType.DOMAIN_REGISTERED, f"page{i:02d}.test", minute=2)
            for i in range(25)
        ],
        domain_event("other", s, EventType.DOMAIN_REGISTERED, "pagf.test", minute=2),
        *[
            batch_event(
                f"b{i}",
                EventType.ORDER_BATCH_REGISTERED,
                f"BATCH-{i}",
                [(f"MO-{i}", f"o{i}.example", "REGISTERED")],
                minute=3 + i,
            )
            for i in range(5)
        ],
        order_event("done", "BATCH-0", "MO-0", "o0.example", "COMPLETED", minute=20),
        domain_event(
            "t1",
            s,
            EventType.DOMAIN_TRANSFER_STATUS_CHANGED,
            "moving.example",
            minute=4,
            outcome=Outcome.NOTIFICATION,
            transfer_id="TR-1",
            transfer_status="pending_owner",
        ),
    ]
    await apply_events(created, events, now=NOW)
    yield created
    await created.close()


async def test_domain_search_by_prefix_in_either_form_pages_without_repeats(pool: asyncpg.Pool) -> None:
    unicode = await search_domains(pool, "bücher")
    assert [item.name for item in unicode.items] == ["xn--bcher-kva.example"]  # whole label: bücherei is another
    ascii_ = await search_domains(pool, "xn--bcher")
    assert {item.name_unicode for item in ascii_.items} == {"bücher.example", "bücherei.example"}
    seen: list[str] = []
    cursor = None
    while True:
        page = await search_domains(pool, "PAGE", cursor=cursor, limit=10)
        seen += [item.name for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"page{i:02d}.test" for i in range(25)]
    with pytest.raises(BadQueryError):
        await search_domains(pool, " ")


async def test_listings_are_newest_first_filtered_and_paged(pool: asyncpg.Pool) -> None:
    batches = await list_recent(pool, ListingKind.ORDER_BATCHES, ListingQuery(provider="most"), limit=3)
    assert len(batches.items) == 3
    assert batches.next_cursor is not None
    rest = await list_recent(pool, ListingKind.ORDER_BATCHES, ListingQuery(provider="most"), cursor=batches.next_cursor)
    ids = [item.id for item in [*batches.items, *rest.items]]
    assert sorted(ids) == [f"BATCH-{i}" for i in range(5)]
    assert len(set(ids)) == 5
    assert (await list_recent(pool, ListingKind.ORDER_BATCHES, ListingQuery(provider="opensrs"))).items == []

    completed = await list_recent(pool, ListingKind.ORDERS, ListingQuery(status="COMPLETED"))
    assert [(item.kind, item.id, item.batch_id) for item in completed.items] == [
        ("most_batch_order", "MO-0", "BATCH-0")
    ]
    orders = await list_recent(pool, ListingKind.ORDERS, ListingQuery())
    assert {item.id for item in orders.items} >= {f"MO-{i}" for i in range(5)}
    assert orders.items[0].id == "MO-0"  # changed last (provider time of its status)

    transfers = await list_recent(pool, ListingKind.TRANSFERS, ListingQuery(since=NOW - timedelta(days=3650)))
    assert [(item.id, item.domain) for item in transfers.items] == [("TR-1", "moving.example")]
    future = await list_recent(pool, ListingKind.TRANSFERS, ListingQuery(since=datetime.now(UTC) + timedelta(days=1)))
    assert future.items == []


async def test_the_read_api_serves_the_listings(pool: asyncpg.Pool) -> None:
    app = create_read_api(service="aggregator", pool=lambda: pool, tokens=[TOKEN], ready=lambda: None)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        found = await client.get("/domain-search", params={"prefix": "bücher."}, headers=headers)
        assert found.status_code == 200
        assert [item["name"] for item in found.json()["items"]] == ["xn--bcher-kva.example"]
        batches = await client.get("/order-batches", params={"limit": 2}, headers=headers)
        assert len(batches.json()["items"]) == 2
        assert batches.json()["next_cursor"]
        assert (await client.get("/tasks", headers=headers)).json() == {"items": [], "next_cursor": None}
        assert (await client.get("/orders", params={"cursor": "nonsense"}, headers=headers)).status_code == 422
        assert (await client.get("/transfers")).status_code == 401
        newest = await client.get("/domains/page03.test/timeline", headers=headers)
        assert [item["type"] for item in newest.json()["items"]] == ["domain.registered"]
        assert (await client.get("/domains/nowhere.test/timeline", headers=headers)).status_code == 404


async def test_a_timeline_newest_first_pages_without_repeats(pool: asyncpg.Pool) -> None:
    s = Source.OPENSRS
    events = [
        domain_event(
            f"ns{i}", s, EventType.DOMAIN_NAMESERVERS_UPDATED, "long.example", minute=i, nameservers=[f"ns{i}.x"]
        )
        for i in range(23)
    ]
    await apply_events(pool, events, now=NOW)
    seen: list[str] = []
    cursor = None
    while True:
        page = await domain_timeline(pool, "long.example", cursor=cursor, limit=10)
        seen += [str(item.id) for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [str(e.id) for e in reversed(events)]
