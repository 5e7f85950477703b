"""The admin API on the real PostgreSQL: bearer auth, 422 JSON errors, secrets shown once, redelivery routes."""

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

_TOKEN = "test-admin-token-0123456789"
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
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://admin") as client:
        yield client


async def _create(api: httpx.AsyncClient, **spec: object) -> dict[str, object]:
    answer = await api.post("/v1/subscriptions", json={"url": "http://127.0.0.1:9/hook", **spec}, headers=_AUTH)
    assert answer.status_code == 201, answer.text
    body: dict[str, object] = answer.json()
    return body


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer wrong"}, {"authorization": _TOKEN}])
async def test_requests_without_a_valid_token_are_refused(api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    for method, path in [("GET", "/v1/subscriptions"), ("POST", "/v1/subscriptions"), ("GET", "/v1/dlq")]:
        answer = await api.request(method, path, headers=headers, json={"url": "http://127.0.0.1:9/"})
        assert answer.status_code == 401, (method, path)
        assert answer.headers["www-authenticate"] == "Bearer"


async def test_a_locked_api_refuses_everyone(pool: asyncpg.Pool) -> None:
    app = create_admin_app(pool, AddressGuard(SystemResolver()), None, lambda: None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://admin") as client:
        assert (await client.get("/v1/subscriptions", headers={"authorization": "Bearer "})).status_code == 401
        assert (await client.get("/healthz")).status_code == 200


async def test_probes_and_metrics_need_no_token(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json()["status"] == "ok"
    assert (await api.get("/readyz")).status_code == 200
    assert "regpipe_delivery_attempts_total" in (await api.get("/metrics")).text


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"url": "ftp://127.0.0.1/hook"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data"}, "url"),
        ({"url": "http://10.0.0.8/hook"}, "url"),
        ({"url": "http://127.0.0.1:9/hook", "event_types": ["domain.registerd"]}, "event_types"),
        ({"url": "http://127.0.0.1:9/hook", "event_types": ["domain*"]}, "event_types"),
        ({"url": "http://127.0.0.1:9/hook", "sources": ["nobody"]}, "sources"),
    ],
)
async def test_bad_input_is_a_422_with_a_json_error(
    api: httpx.AsyncClient, spec: dict[str, object], field: str
) -> None:
    answer = await api.post("/v1/subscriptions", json=spec, headers=_AUTH)
    assert answer.status_code == 422
    assert answer.json() == {"error": "invalid_subscription", "field": field, "message": answer.json()["message"]}


async def test_schema_errors_are_422_json_too(api: httpx.AsyncClient) -> None:
    answer = await api.post("/v1/subscriptions", json={"url": "http://127.0.0.1/", "max_concurrency": 0}, headers=_AUTH)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][-1] == "max_concurrency"


async def test_secret_is_shown_once_and_rotates(api: httpx.AsyncClient) -> None:
    created = await _create(api, event_types=["domain.*"], description="billing")
    secret = str(created["secret"])
    assert secret.startswith("whsec_")
    sid = created["subscription"]["id"]  # type: ignore[index]
    listed = await api.get("/v1/subscriptions", headers=_AUTH)
    assert secret not in listed.text
    assert secret not in (await api.get(f"/v1/subscriptions/{sid}", headers=_AUTH)).text
    rotated = await api.post(f"/v1/subscriptions/{sid}/rotate-secret", json={"overlap_s": 60}, headers=_AUTH)
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != secret


async def test_enable_disable(api: httpx.AsyncClient) -> None:
    sid = (await _create(api))["subscription"]["id"]  # type: ignore[index]
    disabled = await api.post(f"/v1/subscriptions/{sid}/disable", headers=_AUTH)
    assert disabled.json()["enabled"] is False
    assert disabled.json()["disabled_reason"] == "disabled by an operator"
    enabled = await api.post(f"/v1/subscriptions/{sid}/enable", headers=_AUTH)
    assert enabled.json()["enabled"] is True
    missing = await api.post(f"/v1/subscriptions/{uuid.uuid4()}/enable", headers=_AUTH)
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


async def test_redelivery_routes_and_listings(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    sid = (await _create(api))["subscription"]["id"]  # type: ignore[index]
    event = expiring(uuid.uuid4(), time=datetime(2026, 6, 1, tzinfo=UTC))
    await Intake(pool).store([event])
    one = await api.post(f"/v1/subscriptions/{sid}/redeliver/{event.id}", headers=_AUTH)
    assert one.json() == {"scheduled": 1}
    window = {"since": "2026-06-01T00:00:00Z", "until": "2026-06-02T00:00:00Z"}
    assert (await api.post(f"/v1/subscriptions/{sid}/redeliver", json=window, headers=_AUTH)).json() == {"scheduled": 1}
    backwards = {"since": "2026-06-02T00:00:00Z", "until": "2026-06-01T00:00:00Z"}
    assert (await api.post(f"/v1/subscriptions/{sid}/redeliver", json=backwards, headers=_AUTH)).status_code == 422
    failed = await api.post("/v1/redeliver-failed", json={"since": "2026-01-01T00:00:00Z"}, headers=_AUTH)
    assert failed.json() == {"scheduled": 0}
    assert (await api.get(f"/v1/subscriptions/{sid}/attempts", headers=_AUTH)).json() == []
    assert (await api.get(f"/v1/events/{event.id}/attempts", headers=_AUTH)).json() == []
    assert (await api.get("/v1/dlq", headers=_AUTH)).json() == []
    assert (await api.get("/v1/operator-events", headers=_AUTH)).json() == []
    jobs = await pool.fetchval("SELECT redeliveries FROM delivery_jobs WHERE event_id = $1", event.id)
    assert jobs == 2  # one job, created by the intake and rescheduled by each redelivery


async def test_openapi_documents_the_bearer_scheme(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "/v1/subscriptions/{subscription_id}/rotate-secret" in document["paths"]
