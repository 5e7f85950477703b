"""The aggregator under SIGKILL on the real broker and PostgreSQL, with the real deduplicator behind its outbox.

More than 20,000 canonical events from all four providers, with duplicates and batch webhooks out of order, are
consumed while the aggregator is SIGKILLed and restarted several times and a second replica joins and leaves.
Afterwards the tables equal the pure fold over the same events, and every aggregate event (settled Cold Mail orders,
expiry checkpoints) is on the public topic exactly once.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from pathlib import Path

import asyncpg
import pytest

from regpipe.aggregate.fold import fold
from regpipe.contract import Transport, from_kafka_record
from tests.aggregate.databases import fresh_database
from tests.aggregate.snapshot import assert_same_model, snapshot
from tests.aggregate.world import world_events
from tests.kafka_io import create_topics, produce_events, read_topic, unique
from tests.service_process import ServiceUnderTest
from tests.services.aggregator.running import Replica, prepare

# Each step waits on its own condition with its own deadline; the whole test moves tens of thousands of records
# through several processes, which on a busy machine takes longer than the suite's default limit.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

_DOMAINS = 4_800  # about 20,700 events


async def _applied(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM agg_applied_events"))


async def _wait(pool: asyncpg.Pool, at_least: int, replicas: list[Replica], timeout_s: float = 90) -> int:
    deadline = time.monotonic() + timeout_s
    while (count := await _applied(pool)) < at_least:
        if time.monotonic() > deadline:
            logs = "\n".join(r.process.log[-2000:] for r in replicas)
            raise AssertionError(f"only {count} of {at_least} applied:\n{logs}")
        await asyncio.sleep(0.05)
    return count


async def test_sigkills_and_a_joining_replica_lose_nothing_and_double_nothing(
    kafka_bootstrap: str, pg_dsn: str, tmp_path: Path
) -> None:
    dsn = await fresh_database(pg_dsn)
    env = await prepare(kafka_bootstrap, dsn)
    events = world_events(domains=_DOMAINS, seed=7)
    assert len(events) >= 20_000
    rng = random.Random(11)
    # Out of order (batch stage-2 before stage-1, per-order events anywhere) and ~10 % delivered twice.
    stream = [*events, *rng.sample(events, len(events) // 10)]
    rng.shuffle(stream)
    await produce_events(kafka_bootstrap, env.events_topic, stream)

    # The real deduplicator relays the outbox topic onto the public topic, as in production.
    tag = unique("dedup")
    await create_topics(kafka_bootstrap, [f"state-{tag}", f"quarantine-{tag}"], partitions=3)
    dedup = ServiceUnderTest(
        "deduplicator",
        {
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "DEDUP_GROUP_ID": f"group-{tag}",
            "DEDUP_TRANSACTIONAL_ID_PREFIX": f"txn-{tag}",
            "DEDUP_INPUT_TOPIC": env.outbox_topic,
            "DEDUP_OUTPUT_TOPIC": env.events_topic,
            "DEDUP_CHANGELOG_TOPIC": f"state-{tag}",
            "DEDUP_QUARANTINE_TOPIC": f"quarantine-{tag}",
        },
        tmp_path,
    )
    small_batches = {"AGGREGATOR_BATCH_MAX": "200"}
    first = Replica(env, tmp_path, "first", **small_batches)
    second = Replica(env, tmp_path, "second", **small_batches)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    dedup.start()
    first.process.start()
    try:
        total = len(events)
        progress = [await _wait(pool, 1, [first])]
        for kill_at in (0.12, 0.3, 0.5):
            if kill_at == 0.3:
                second.process.start()  # a second replica joins: the group rebalances
            progress.append(await _wait(pool, int(total * kill_at), [first, second]))
            first.process.kill()
            first.process.start()
        progress.append(await _wait(pool, int(total * 0.7), [first, second]))
        second.process.stop()  # ... and leaves
        first.process.kill()
        first.process.start()
        await _wait(pool, total, [first, second], timeout_s=120)

        # tables == pure fold over the same events
        assert_same_model(await snapshot(dsn), fold(events))
        assert await _applied(pool) == total

        # every aggregate event on the public topic exactly once
        deadline = time.monotonic() + 60
        while await pool.fetchval(
            "SELECT (SELECT count(*) FROM agg_outbox WHERE sent_at IS NULL)"
            " + (SELECT count(*) FROM agg_coldmail_orders WHERE settled_at IS NULL)"
        ):
            assert time.monotonic() < deadline, "orders never settled or outbox never drained"
            await asyncio.sleep(0.1)
        async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            outbox_ids = {row["event_id"] for row in await conn.fetch("SELECT event_id FROM agg_outbox")}
            checkpoints = {row["event_id"] for row in await conn.fetch("SELECT event_id FROM agg_expiry_checkpoints")}
            settled = {
                row["settled_event_id"]
                for row in await conn.fetch(
                    "SELECT settled_event_id FROM agg_coldmail_orders WHERE settled_at IS NOT NULL"
                )
            }
        assert checkpoints
        assert settled
        assert outbox_ids == checkpoints | settled
        records = await read_topic(
            kafka_bootstrap, env.events_topic, expect=len(stream) + len(outbox_ids), timeout_s=90
        )
        published = [from_kafka_record(r.value, list(r.headers)) for r in records]
        own = Counter(e.id for e in published if e.transport is Transport.PIPELINE)
        assert max(own.values()) == 1
        assert outbox_ids <= set(own)
        # (a checkpoint falling due while the topic was read may have been added meanwhile: it is in the outbox too)
        assert set(own) <= {row["event_id"] for row in await pool.fetch("SELECT event_id FROM agg_outbox")}
        assert Counter(e.id for e in published if e.transport is not Transport.PIPELINE) == Counter(
            e.id for e in stream
        )
    finally:
        await pool.close()
        for replica in (first, second):
            replica.process.stop()
        dedup.stop()
    print(f"applied progress at kills/joins: {progress}; aggregate events: {len(outbox_ids)}")
