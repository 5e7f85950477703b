"""The delivery service as a real process on the real broker and PostgreSQL, to local receivers on 127.0.0.1.

Guarantee under test: at-least-once to every matching endpoint (webhook-id = canonical id), never blocking (a
slow, flapping, gone or throttled endpoint does not delay a healthy one), no pending retry lost to a SIGKILL, and
replicas that share the work without sending an event to an endpoint twice in the normal case.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.conditions import eventually_async
from tests.delivery.databases import eventually, fresh_database, wait_for
from tests.delivery.receivers import Receivers, serve_receivers
from tests.services.delivery.harness import (
    AUTH,
    events,
    p99,
    produce_paced,
    service_env,
    start_service,
    subscribe,
)

pytestmark = pytest.mark.integration

_SLOW_S = 3.0


@pytest.fixture
async def dsn(pg_dsn: str) -> str:
    return await fresh_database(pg_dsn)


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    created = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    yield created
    await created.close()


async def test_endpoints_of_every_kind_at_once(
    kafka_bootstrap: str, dsn: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    env = await service_env(kafka_bootstrap, dsn, schedule="0,0.2,0.5,1,1,1,1,1,1,1,1,1")
    async with serve_receivers(Receivers(slow_s=_SLOW_S, retry_after_s=2)) as receivers:
        service, base = await start_service(env, tmp_path)
        try:
            secrets: dict[str, str] = {}
            ids: dict[str, str] = {}
            ids["healthy"], secrets["healthy"] = await subscribe(base, receivers.url("healthy"), max_concurrency=32)
            others = {"flapping": {}, "slow": {"max_concurrency": 4}, "gone": {}, "throttled": {}}
            for name, spec in others.items():
                ids[name], secrets[name] = await subscribe(base, receivers.url(name), enabled=False, **spec)
            topic = env["DELIVERY_INPUT_TOPIC"]

            # Warm-up (connections, caches), then phase 1: the healthy endpoint alone, as the reference.
            await produce_paced(kafka_bootstrap, topic, events(5), rate_per_s=50)
            await eventually(lambda: len(receivers.delivered_ids("healthy")) == 5, "warm-up delivered")
            alone = events(30)
            sent_alone = await produce_paced(kafka_bootstrap, topic, alone, rate_per_s=30)
            await eventually(lambda: len(receivers.delivered_ids("healthy")) == 35, "phase 1 delivered")

            # Phase 2: every other kind of endpoint receives the same events beside it.
            async with httpx.AsyncClient() as client:
                for name in others:
                    assert (await client.post(f"{base}/v1/subscriptions/{ids[name]}/enable", headers=AUTH)).is_success

            async def fanned_out() -> bool:
                # The intake re-reads the subscriptions every second: probe until one reaches the enabled ones.
                await produce_paced(kafka_bootstrap, topic, events(1), rate_per_s=10)
                return bool(receivers.of("throttled"))

            await eventually_async(fanned_out, "events reach the enabled subscriptions", timeout_s=90)
            # The slow endpoint now answers nothing until the healthy one has every event of phase 2: were the
            # endpoints served one after the other, the healthy one would wait for ever and the test would fail.
            gate = asyncio.Event()
            receivers.slow_gate = gate
            beside = events(30)
            sent_beside = await produce_paced(kafka_bootstrap, topic, beside, rate_per_s=30)
            wanted = {str(e.id) for e in beside}
            await eventually(lambda: receivers.delivered_ids("healthy") >= wanted, "phase 2 healthy delivered", 90)
            assert not receivers.delivered_ids("slow") & wanted
            gate.set()
            await eventually(lambda: receivers.delivered_ids("flapping") >= wanted, "flapping all delivered", 90)
            await eventually(lambda: receivers.delivered_ids("throttled") >= wanted, "throttled all delivered", 90)
            await eventually(lambda: receivers.delivered_ids("slow") >= wanted, "slow all delivered", 90)
            await wait_for(pool, "SELECT NOT enabled FROM delivery_subscriptions WHERE id = $1", ids["gone"])
        finally:
            service.stop()

    first_arrival: dict[str, float] = {}
    for arrival in receivers.of("healthy"):
        first_arrival.setdefault(arrival.webhook_id, arrival.at)
    latency_alone = [first_arrival[i] - t for i, t in sent_alone.items()]
    latency_beside = [first_arrival[i] - t for i, t in sent_beside.items()]
    print(
        f"healthy p99 alone {p99(latency_alone) * 1000:.1f} ms, beside the others {p99(latency_beside) * 1000:.1f} ms"
    )
    # Every request, to every endpoint and on every attempt, verifies with the reference library.
    for arrival in receivers.arrivals:
        Webhook(secrets[arrival.endpoint]).verify(arrival.body, arrival.headers)
    # The healthy endpoint got each event once; the flapping one ends with all of them.
    assert Counter(a.webhook_id for a in receivers.of("healthy")).most_common(1)[0][1] == 1
    assert {a.status for a in receivers.of("flapping")} == {200, 500}
    # Throttled: each event waited for the Retry-After (2 s), not the schedule's 0.2 s.
    by_id: dict[str, list[float]] = {}
    for arrival in receivers.of("throttled"):
        by_id.setdefault(arrival.webhook_id, []).append(arrival.at)
    assert all(times[1] - times[0] >= 1.9 for times in by_id.values())
    # Gone: disabled after its first answers, with an operator event; nothing more was sent.
    assert len(receivers.of("gone")) <= 5
    assert (
        await pool.fetchval("SELECT kind FROM delivery_operator_events WHERE subscription_id = $1", ids["gone"])
        == "gone"
    )
    # Secrets never reach the log.
    assert not any(secret in service.log for secret in secrets.values())


async def test_sigkill_loses_no_pending_retry(
    kafka_bootstrap: str, dsn: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    env = await service_env(kafka_bootstrap, dsn, schedule="0,1.5,1.5,1.5,1.5,1.5", lease_s=4, timeout_s=2)
    batch = events(30)
    wanted = {str(e.id) for e in batch}
    async with serve_receivers(Receivers()) as receivers:
        service, base = await start_service(env, tmp_path)
        try:
            await subscribe(base, receivers.url("failing_twice"), max_concurrency=8)
            await asyncio.sleep(1.5)
            await produce_paced(kafka_bootstrap, env["DELIVERY_INPUT_TOPIC"], batch, rate_per_s=200)
            # Kill while retries are pending (every event fails twice, 1.5 s apart) and before any succeeded.
            # Every event is stored as a job first: the count below is then the whole batch's, on any machine.
            await wait_for(
                pool,
                "SELECT count(*) = 30 AND count(*) FILTER (WHERE state = 'pending' AND attempts >= 1) >= 20"
                " FROM delivery_jobs",
            )
            service.kill()
            pending = await pool.fetchval("SELECT count(*) FROM delivery_jobs WHERE state IN ('pending', 'sending')")
            delivered_before = len(receivers.delivered_ids("failing_twice"))
            service.start()
            await eventually(lambda: receivers.delivered_ids("failing_twice") == wanted, "every event delivered", 90)
        finally:
            service.stop()
    assert pending + delivered_before == 30
    assert await pool.fetchval("SELECT count(*) FROM delivery_jobs WHERE state = 'delivered'") == 30
    requests = Counter(a.webhook_id for a in receivers.of("failing_twice"))
    # Exactly 3 per event (two failures, one success), plus at most one more for a request in flight at the kill.
    assert all(3 <= n <= 4 for n in requests.values()), requests


async def test_two_replicas_share_the_work_without_duplicates(
    kafka_bootstrap: str, dsn: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    env = await service_env(kafka_bootstrap, dsn, schedule="0,0.5,1")
    batch = events(300)
    async with serve_receivers(Receivers()) as receivers:
        first, base = await start_service(env, tmp_path, "replica-1")
        second, _ = await start_service(env, tmp_path, "replica-2")
        try:
            await subscribe(base, receivers.url("healthy"), max_concurrency=4)
            await asyncio.sleep(1.5)
            await produce_paced(kafka_bootstrap, env["DELIVERY_INPUT_TOPIC"], batch, rate_per_s=300)
            await eventually(lambda: len(receivers.delivered_ids("healthy")) == 300, "all delivered", 90)
            await asyncio.sleep(1.0)  # a duplicate would arrive now
        finally:
            first.stop()
            second.stop()
    assert len(receivers.of("healthy")) == 300
    senders = await pool.fetch("SELECT sent_by, count(*) AS n FROM delivery_attempts GROUP BY sent_by")
    assert len(senders) == 2, senders  # both replicas sent
    assert sum(row["n"] for row in senders) == 300
