"""PostgreSQL goes away under the running aggregator: it reports not ready, consumes and commits nothing meanwhile,
and once PostgreSQL is back it applies everything, the tables equal to the fold of every event."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from regpipe.aggregate.fold import fold
from regpipe.stack.postgres import PostgresServer
from tests.aggregate.snapshot import assert_same_model, snapshot
from tests.aggregate.world import world_events
from tests.kafka_io import produce_events
from tests.services.aggregator.running import Replica, prepare

pytestmark = pytest.mark.integration


async def _applied(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM agg_applied_events"))
    finally:
        await conn.close()


async def _offsets(bootstrap: str, group: str, topic: str) -> tuple[int, int]:
    """(committed, end) offsets of `group` summed over the topic's partitions (3, as `prepare` creates it)."""
    tps = [TopicPartition(topic, p) for p in range(3)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(tps)
        committed = [await consumer.committed(tp) or 0 for tp in tps]
        return sum(committed), sum(ends.values())
    finally:
        await consumer.stop()


@pytest.fixture
def pg_base() -> Iterator[Path]:
    """A folder for a PostgreSQL cluster that outlives one server process (stopped and started again)."""
    # Not tmp_path: as root the server runs as `postgres`, which cannot enter pytest's 0700 folders.
    base = Path(tempfile.mkdtemp(prefix="regpipe-agg-pg-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


async def _until(check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


async def test_postgres_outage_pauses_consumption_and_loses_nothing(
    kafka_bootstrap: str, tmp_path: Path, pg_base: Path
) -> None:
    base = pg_base
    server = PostgresServer(base)
    await server.astart()
    env = await prepare(kafka_bootstrap, server.dsn)
    events = world_events(domains=800, seed=5)
    before, after = events[: len(events) // 2], events[len(events) // 2 :]
    await produce_events(kafka_bootstrap, env.events_topic, before)
    replica = Replica(env, tmp_path)
    replica.process.start()
    try:
        await replica.wait_ready()

        async def all_before() -> bool:
            return await _applied(server.dsn) == len(before)

        await _until(all_before, "first half applied")
        await server.astop()
        await produce_events(kafka_bootstrap, env.events_topic, after)

        async with replica.client(token=None) as client:

            async def not_ready() -> bool:
                return (await client.get("/readyz")).status_code == 503

            await _until(not_ready, "/readyz reports the outage")
            await asyncio.sleep(2)  # the consumer has had time to (wrongly) move on
            committed, ends = await _offsets(kafka_bootstrap, env.group, env.events_topic)
            assert committed == len(before)
            assert ends == len(events)
            assert (await client.get("/readyz")).json()["reason"]

            restarted = PostgresServer(base)
            restarted.port = server.port  # the same address the service was configured with
            server = restarted
            await server.astart()

            async def everything() -> bool:
                return await _applied(server.dsn) == len(events)

            await _until(everything, "second half applied after the outage")

            async def ready() -> bool:
                return (await client.get("/readyz")).status_code == 200

            await _until(ready, "/readyz ready again")
        assert_same_model(await snapshot(server.dsn), fold(events))
        assert replica.process.returncode is None
    finally:
        replica.process.stop()
        await server.astop()
