"""The admin API's dry runs and stored events on real PostgreSQL: each preview counts what the same redelivery then
schedules, and changes nothing itself."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from regpipe.delivery.address_guard import AddressGuard, SystemResolver
from regpipe.delivery.admin_api import create_admin_app
from regpipe.delivery.intake import Intake
from tests.dedup.events import expiring
from tests.delivery.databases import fresh_database

pytestmark = pytest.mark.integration

_TOKEN = "test-admin-token-preview-0123"
_AUTH = {"authorization": f"Bearer {_TOKEN}"}


@pytest.fixture
async def pool(pg_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    created = await asyncpg.create_pool(await fresh_database(pg_dsn), min_size=1, max_size=4)
    yield created
    await created.close()


@pytest.fixture
async def api(pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    guard = AddressGuard.with_allow_list(SystemResolver(), ["127.0.0.0/8"])
    app = create_admin_app(pool, guard, SecretStr(_TOKEN), lambda: None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://admin", headers=_AUTH) as c:
        yield c


async def test_previews_count_what_the_redelivery_then_schedules(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    created = await api.post("/v1/subscriptions", json={"url": "http://127.0.0.1:9/hook"})
    sid = created.json()["subscription"]["id"]
    june = [expiring(uuid.uuid4(), domain=f"p{i}.example", time=datetime(2026, 6, 1, i, tzinfo=UTC)) for i in range(3)]
    await Intake(pool).store(june)
    window = {"since": "2026-06-01T00:00:00Z", "until": "2026-06-01T02:00:00Z"}

    preview = await api.get(f"/v1/subscriptions/{sid}/redeliver-preview", params=window)
    assert preview.json() == {"would_schedule": 2}
    redeliveries = await pool.fetchval("SELECT sum(redeliveries) FROM delivery_jobs")
    assert redeliveries == 0  # a preview changes nothing
    done = await api.post(f"/v1/subscriptions/{sid}/redeliver", json=window)
    assert done.json() == {"scheduled": 2}

    one = await api.get(f"/v1/subscriptions/{sid}/redeliver-preview/{june[0].id}")
    assert one.json() == {"would_schedule": 1}
    await pool.execute("UPDATE delivery_jobs SET state = 'sending' WHERE event_id = $1", june[0].id)
    sending = await api.get(f"/v1/subscriptions/{sid}/redeliver-preview/{june[0].id}")
    assert sending.json() == {"would_schedule": 0}  # a job being sent is left alone by the redelivery too
    assert (await api.post(f"/v1/subscriptions/{sid}/redeliver/{june[0].id}")).json() == {"scheduled": 0}

    await pool.execute("UPDATE delivery_jobs SET state = 'dead', updated_at = now() WHERE event_id = $1", june[1].id)
    failed = await api.get("/v1/redeliver-failed-preview", params={"since": "2026-01-01T00:00:00Z"})
    assert failed.json() == {"would_schedule": 1}
    assert (await api.post("/v1/redeliver-failed", json={"since": "2026-01-01T00:00:00Z"})).json() == {"scheduled": 1}

    backwards = {"since": window["until"], "until": window["since"]}
    assert (await api.get(f"/v1/subscriptions/{sid}/redeliver-preview", params=backwards)).status_code == 422
    assert (await api.get(f"/v1/subscriptions/{uuid.uuid4()}/redeliver-preview/{june[0].id}")).status_code == 404


async def test_a_stored_event_is_served_with_its_lineage(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    await api.post("/v1/subscriptions", json={"url": "http://127.0.0.1:9/hook"})  # events are stored when matched
    event = expiring(uuid.uuid4(), time=datetime(2026, 6, 1, tzinfo=UTC))
    await Intake(pool).store([event])
    stored = await api.get(f"/v1/events/{event.id}")
    assert stored.status_code == 200
    assert stored.json()["body"]["id"] == str(event.id)
    assert stored.json()["event_type"] == event.type.value
    assert (await api.get(f"/v1/events/{uuid.uuid4()}")).status_code == 404
    assert (await api.get(f"/v1/events/{event.id}", headers={"authorization": "Bearer wrong"})).status_code == 401


async def test_event_deliveries_of_a_page_of_events(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    await api.post("/v1/subscriptions", json={"url": "http://127.0.0.1:9/hook"})
    event = expiring(uuid.uuid4(), time=datetime(2026, 6, 1, tzinfo=UTC))
    await Intake(pool).store([event])
    unknown = uuid.uuid4()
    answer = await api.get("/v1/event-deliveries", params={"event_id": [str(event.id), str(unknown)]})
    assert answer.status_code == 200
    found, missing = answer.json()
    assert (found["event_id"], found["stored"], found["attempts"]) == (str(event.id), True, [])
    assert (missing["event_id"], missing["stored"], missing["lineage"]) == (str(unknown), False, None)


async def test_endpoint_success_counts_the_latest_attempts(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    sid = (await api.post("/v1/subscriptions", json={"url": "http://127.0.0.1:9/hook"})).json()["subscription"]["id"]
    event = expiring(uuid.uuid4(), time=datetime(2026, 6, 1, tzinfo=UTC))
    await Intake(pool).store([event])
    job = await pool.fetchval("SELECT id FROM delivery_jobs WHERE event_id = $1", event.id)
    for minute, outcome in enumerate(["retry", "retry", "delivered"]):
        await pool.execute(
            "INSERT INTO delivery_attempts (job_id, subscription_id, event_id, attempted_at, outcome, latency_ms)"
            " VALUES ($1, $2, $3, $4, $5, 1)",
            job,
            uuid.UUID(sid),
            event.id,
            datetime(2026, 6, 1, 0, minute, tzinfo=UTC),
            outcome,
        )
    latest_two = await api.get("/v1/endpoint-success", params={"window": 2})
    assert latest_two.json() == [{"subscription_id": sid, "attempts": 2, "delivered": 1}]
    every = await api.get("/v1/endpoint-success")
    assert every.json() == [{"subscription_id": sid, "attempts": 3, "delivered": 1}]
