"""The FastStream intake on the real broker and PostgreSQL: jobs stored, offsets committed after them, and no
record (undecodable, or refused by PostgreSQL) stops it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import REGISTRY

from regpipe.delivery.address_guard import AddressGuard, SystemResolver
from regpipe.delivery.intake import Intake
from regpipe.delivery.kafka_intake import IntakeConfig, create_intake_broker
from regpipe.delivery.models import SubscriptionSpec
from regpipe.delivery.subscriptions import create_subscription
from tests.dedup.events import expiring
from tests.delivery.databases import fresh_database, wait_for
from tests.kafka_io import create_topics, produce_events, unique

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(pg_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    created = await asyncpg.create_pool(await fresh_database(pg_dsn), min_size=1, max_size=4)
    yield created
    await created.close()


async def _committed(bootstrap: str, group: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items()}


def _skipped(reason: str) -> float:
    return REGISTRY.get_sample_value("regpipe_delivery_skipped_total", {"reason": reason}) or 0.0


async def test_bad_records_are_skipped_and_the_rest_stored_then_committed(
    kafka_bootstrap: str, pool: asyncpg.Pool
) -> None:
    topic, group = unique("events"), unique("intake")
    await create_topics(kafka_bootstrap, [topic], partitions=1)
    guard = AddressGuard.with_allow_list(SystemResolver(), ["127.0.0.0/8"])
    await create_subscription(pool, guard, SubscriptionSpec(url="http://127.0.0.1:9/hook"))
    good = [expiring(uuid.uuid4(), domain=f"ok{i}.example") for i in range(5)]
    unstorable = expiring(uuid.uuid4()).model_copy(update={"subject": "nul\x00.example"})
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    await producer.send_and_wait(topic, b"not a cloudevent", key=b"x", headers=[("ce_type", b"nonsense")])
    await producer.stop()
    await produce_events(kafka_bootstrap, topic, [good[0], unstorable, *good[1:]])
    undecodable_before, unstorable_before = _skipped("undecodable"), _skipped("unstorable")

    broker = create_intake_broker(kafka_bootstrap, IntakeConfig(topic=topic, group_id=group), Intake(pool))
    await broker.start()
    try:
        await wait_for(pool, "SELECT count(*) = 5 FROM delivery_jobs")
        committed: dict[int, int] = {}
        for _ in range(300):  # the commit follows the stored batch
            committed = await _committed(kafka_bootstrap, group)
            if committed == {0: 7}:
                break
            await asyncio.sleep(0.1)
    finally:
        await broker.stop()
    assert committed == {0: 7}  # every record, the two bad ones included
    stored = {row["event_id"] for row in await pool.fetch("SELECT event_id FROM delivery_jobs")}
    assert stored == {e.id for e in good}
    assert _skipped("undecodable") == undecodable_before + 1
    assert _skipped("unstorable") == unstorable_before + 1
