"""Intake + dispatcher + commands on the real PostgreSQL (and Kafka for the DLQ), to local receivers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY
from standardwebhooks.webhooks import Webhook

from regpipe.contract import CanonicalEvent
from regpipe.contract.sealing import RawSealer
from regpipe.delivery import history, redelivery, subscriptions
from regpipe.delivery.address_guard import AddressGuard, SystemResolver
from regpipe.delivery.dispatcher import Dispatcher, DispatcherConfig
from regpipe.delivery.http_client import create_delivery_client
from regpipe.delivery.intake import Intake
from regpipe.delivery.job_queue import JobQueue
from regpipe.delivery.models import SubscriptionSpec
from regpipe.delivery.schedule import RetrySchedule
from regpipe.delivery.signing import NO_SEALING
from regpipe.kafka.producer import create_producer
from tests.dedup.events import expiring
from tests.delivery.databases import eventually, fresh_database, wait_for
from tests.delivery.receivers import Receivers, serve_receivers
from tests.kafka_io import create_topics, read_topic, unique

pytestmark = pytest.mark.integration

_GUARD = AddressGuard.with_allow_list(SystemResolver(), ["127.0.0.0/8"])


@pytest.fixture
async def pool(pg_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    created = await asyncpg.create_pool(await fresh_database(pg_dsn), min_size=1, max_size=8)
    yield created
    await created.close()


@pytest.fixture
async def receivers() -> AsyncIterator[Receivers]:
    async with serve_receivers(Receivers(slow_s=1.0)) as served:
        yield served


class Running:
    """A dispatcher running in this process until the test ends."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        config: DispatcherConfig,
        producer: AIOKafkaProducer | None = None,
        sealer: RawSealer = NO_SEALING,
    ) -> None:
        self.client = create_delivery_client(_GUARD, timeout_s=5)
        queue = JobQueue(pool, "test-replica", 30, sealer)
        self.dispatcher = Dispatcher(pool, queue, self.client, config, producer)
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.dispatcher.run(self.stop))

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 30)
        await self.client.aclose()


def _events(count: int, domain: str = "shop.example") -> list[CanonicalEvent]:
    base = datetime(2026, 5, 1, tzinfo=UTC)
    return [expiring(uuid.uuid4(), domain=domain, time=base + timedelta(minutes=i)) for i in range(count)]


_FAST = DispatcherConfig(schedule=RetrySchedule.of([0, 0.1, 0.1], jitter=0), poll_interval_s=0.05)


async def test_matching_events_are_delivered_signed_with_the_event_id(pool: asyncpg.Pool, receivers: Receivers) -> None:
    wanted = await subscriptions.create_subscription(
        pool,
        _GUARD,
        SubscriptionSpec(url=receivers.url("healthy"), event_types=["domain.*"], domain_suffixes=["example"]),
    )
    await subscriptions.create_subscription(
        pool, _GUARD, SubscriptionSpec(url=receivers.url("other"), event_types=["order.*"])
    )
    events = _events(5) + _events(2, domain="shop.test")
    assert await Intake(pool).store(events) == 5
    assert await Intake(pool).store(events) == 0  # the same batch again (a re-read after a crash): no new job
    running = Running(pool, _FAST)
    try:
        await eventually(lambda: len(receivers.of("healthy")) >= 5, "five deliveries")
        await asyncio.sleep(0.3)  # a sixth (duplicate or unmatched) delivery would show now
    finally:
        await running.close()
    arrivals = receivers.of("healthy")
    assert sorted(a.webhook_id for a in arrivals) == sorted(str(e.id) for e in events[:5])
    assert receivers.of("other") == []
    secret = wanted.secret.get_secret_value()
    for arrival in arrivals:
        Webhook(secret).verify(arrival.body, arrival.headers)
        assert orjson.loads(arrival.body)["id"] == arrival.webhook_id
    attempts = await history.list_attempts(pool, subscription_id=wanted.subscription.id)
    assert {a.outcome for a in attempts} == {"delivered"}
    assert all(a.status_code == 200 and a.response_body == "ok" for a in attempts)


async def test_rotation_overlap_signs_with_both_secrets(pool: asyncpg.Pool, receivers: Receivers) -> None:
    # Sealed at rest: the table holds neither secret in clear, and the dispatcher opens them to sign.
    sealer = RawSealer({"k1": bytes(range(32))}, "k1")
    spec = SubscriptionSpec(url=receivers.url("healthy"))
    created = await subscriptions.create_subscription(pool, _GUARD, spec, sealer)
    rotated = await subscriptions.rotate_secret(pool, created.subscription.id, overlap_s=3600, sealer=sealer)
    stored = await pool.fetch("SELECT secret, seal_kid FROM delivery_secrets")
    assert {row["seal_kid"] for row in stored} == {"k1"}
    for secret in (created.secret, rotated.secret):
        key = secret.get_secret_value()
        assert all(key.encode() not in row["secret"] and key[6:].encode() not in row["secret"] for row in stored)
    await Intake(pool).store(_events(1))
    running = Running(pool, _FAST, sealer=sealer)
    try:
        await eventually(lambda: len(receivers.of("healthy")) == 1, "one delivery")
    finally:
        await running.close()
    arrival = receivers.of("healthy")[0]
    assert len(arrival.headers["webhook-signature"].split()) == 2
    Webhook(created.secret.get_secret_value()).verify(arrival.body, arrival.headers)
    Webhook(rotated.secret.get_secret_value()).verify(arrival.body, arrival.headers)


async def test_redeliveries_carry_the_same_webhook_id(pool: asyncpg.Pool, receivers: Receivers) -> None:
    created = await subscriptions.create_subscription(pool, _GUARD, SubscriptionSpec(url=receivers.url("healthy")))
    sid = created.subscription.id
    events = _events(4)
    await Intake(pool).store(events)
    running = Running(pool, _FAST)
    try:
        await eventually(lambda: len(receivers.of("healthy")) == 4, "first deliveries")
        # (a job whose outcome is still being recorded is left alone by a redelivery)
        await wait_for(pool, "SELECT count(*) = 4 FROM delivery_jobs WHERE state = 'delivered'")
        assert (await redelivery.redeliver_event(pool, sid, events[0].id)).scheduled == 1
        await eventually(lambda: len(receivers.of("healthy")) == 5, "one redelivery")
        await wait_for(pool, "SELECT count(*) = 4 FROM delivery_jobs WHERE state = 'delivered'")
        assert receivers.of("healthy")[-1].webhook_id == str(events[0].id)
        report = await redelivery.redeliver_range(pool, sid, events[1].time, events[3].time)
        assert report.scheduled == 2  # events 1 and 2: the range is half-open
        await eventually(lambda: len(receivers.of("healthy")) == 7, "range redelivery")
        assert sorted(a.webhook_id for a in receivers.of("healthy")[5:]) == sorted(str(e.id) for e in events[1:3])
    finally:
        await running.close()
    with pytest.raises(Exception, match="no stored event"):
        await redelivery.redeliver_event(pool, sid, uuid.uuid4())


async def test_exhausted_jobs_are_listed_published_and_redeliverable(
    pool: asyncpg.Pool, receivers: Receivers, kafka_bootstrap: str
) -> None:
    dlq = unique("dlq")
    await create_topics(kafka_bootstrap, [dlq], partitions=1)
    producer = create_producer(kafka_bootstrap, client_id="test-dlq")
    await producer.start()
    created = await subscriptions.create_subscription(pool, _GUARD, SubscriptionSpec(url=receivers.url("broken")))
    events = _events(2)
    await Intake(pool).store(events)
    config = DispatcherConfig(schedule=RetrySchedule.of([0, 0.05, 0.05], jitter=0), poll_interval_s=0.05, dlq_topic=dlq)
    running = Running(pool, config, producer)
    try:
        await wait_for(pool, "SELECT count(*) = 2 FROM delivery_jobs WHERE dlq_published_at IS NOT NULL")
    finally:
        await running.close()
    dead = await history.list_dead(pool)
    assert sorted(str(d.event_id) for d in dead) == sorted(str(e.id) for e in events)
    assert all(d.attempts == 3 and d.last_status == 500 and d.published_to_topic for d in dead)
    assert len(receivers.of("broken")) == 6  # 3 attempts each, then no more
    records = await read_topic(kafka_bootstrap, dlq, expect=2)
    assert sorted(orjson.loads(r.value)["event"]["id"] for r in records) == sorted(str(e.id) for e in events)
    assert {r.key for r in records} == {f"{created.subscription.id}:{e.id}".encode() for e in events}
    report = await redelivery.redeliver_failed(pool, datetime.now(UTC) - timedelta(minutes=5))
    assert report.scheduled == 2
    assert await history.list_dead(pool) == []
    await producer.stop()


async def test_410_disables_the_endpoint_and_tells_operators(pool: asyncpg.Pool, receivers: Receivers) -> None:
    disabled_before = REGISTRY.get_sample_value("regpipe_delivery_endpoints_disabled_total", {"reason": "gone"}) or 0
    created = await subscriptions.create_subscription(pool, _GUARD, SubscriptionSpec(url=receivers.url("gone")))
    await Intake(pool).store(_events(3))
    running = Running(pool, _FAST)
    try:
        await wait_for(pool, "SELECT NOT enabled FROM delivery_subscriptions")
        await asyncio.sleep(0.3)
    finally:
        await running.close()
    stored = await subscriptions.get_subscription(pool, created.subscription.id)
    assert not stored.enabled
    assert stored.disabled_reason is not None
    assert "410" in stored.disabled_reason
    assert [e.kind for e in await history.list_operator_events(pool)] == ["gone"]
    disabled = REGISTRY.get_sample_value("regpipe_delivery_endpoints_disabled_total", {"reason": "gone"})
    assert disabled == disabled_before + 1  # the operator event is a metric too
    assert len(receivers.of("gone")) <= created.subscription.max_concurrency  # no more once disabled
    pending = await pool.fetchval("SELECT count(*) FROM delivery_jobs WHERE state = 'pending'")
    assert pending == 3  # the jobs wait for the endpoint to come back


async def test_endpoint_failing_too_long_is_disabled(pool: asyncpg.Pool, receivers: Receivers) -> None:
    await subscriptions.create_subscription(pool, _GUARD, SubscriptionSpec(url=receivers.url("broken")))
    await Intake(pool).store(_events(1))
    config = DispatcherConfig(
        schedule=RetrySchedule.of([0] + [0.1] * 50, jitter=0), poll_interval_s=0.05, disable_after_s=0.5
    )
    running = Running(pool, config)
    try:
        await wait_for(pool, "SELECT NOT enabled FROM delivery_subscriptions")
    finally:
        await running.close()
    [event] = await history.list_operator_events(pool)
    assert event.kind == "failing"
    assert len(receivers.of("broken")) >= 2


async def test_retry_after_pauses_only_that_endpoint(pool: asyncpg.Pool, receivers: Receivers) -> None:
    receivers.retry_after_s = 1
    await subscriptions.create_subscription(pool, _GUARD, SubscriptionSpec(url=receivers.url("throttled")))
    await Intake(pool).store(_events(1))
    running = Running(pool, _FAST)
    try:
        await eventually(lambda: len(receivers.delivered_ids("throttled")) == 1, "delivered after Retry-After")
    finally:
        await running.close()
    first, second = receivers.of("throttled")
    assert first.status == 429
    assert second.at - first.at >= 0.9  # the schedule said 0.1 s; the endpoint asked for 1 s


async def test_ordered_subscription_sends_one_domain_in_order(pool: asyncpg.Pool, receivers: Receivers) -> None:
    await subscriptions.create_subscription(
        pool, _GUARD, SubscriptionSpec(url=receivers.url("failing_twice"), ordered=True, max_concurrency=8)
    )
    events = _events(4)
    await Intake(pool).store(events)
    running = Running(pool, _FAST)
    try:
        await eventually(lambda: len(receivers.delivered_ids("failing_twice")) == 4, "all delivered", 60)
    finally:
        await running.close()
    order = [a.webhook_id for a in receivers.of("failing_twice")]
    # each event is retried until it succeeds before the next one is first tried
    assert order == [str(e.id) for e in events for _ in range(3)]


async def test_graceful_stop_releases_jobs_in_flight(pool: asyncpg.Pool, receivers: Receivers) -> None:
    receivers.slow_s = 5.0
    await subscriptions.create_subscription(
        pool, _GUARD, SubscriptionSpec(url=receivers.url("slow"), max_concurrency=2)
    )
    await Intake(pool).store(_events(4))
    config = DispatcherConfig(schedule=RetrySchedule.of([0, 0.1], jitter=0), poll_interval_s=0.05, drain_timeout_s=0.2)
    running = Running(pool, config)
    await wait_for(pool, "SELECT count(*) = 2 FROM delivery_jobs WHERE state = 'sending'")
    await running.close()
    # The two requests in flight were abandoned; their jobs are due again at once, not after the lease.
    rows = await pool.fetch("SELECT state, lease_owner, attempts FROM delivery_jobs")
    assert {(r["state"], r["lease_owner"], r["attempts"]) for r in rows} == {("pending", None, 0)}


async def test_an_answer_postgresql_cannot_store_is_still_recorded(pool: asyncpg.Pool, receivers: Receivers) -> None:
    created = await subscriptions.create_subscription(pool, _GUARD, SubscriptionSpec(url=receivers.url("nul")))
    await Intake(pool).store(_events(1))
    running = Running(pool, _FAST)
    try:
        await wait_for(pool, "SELECT count(*) = 1 FROM delivery_jobs WHERE state = 'delivered'")
    finally:
        await running.close()
    [attempt] = await history.list_attempts(pool, subscription_id=created.subscription.id)
    assert attempt.response_body == "thanks\ufffd"
