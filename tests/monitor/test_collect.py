"""A snapshot reads real `/metrics` endpoints and real consumer-group lag from the broker."""

from __future__ import annotations

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from prometheus_client import CollectorRegistry, Counter, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from regpipe.monitor import MonitorTarget, collect_snapshot
from regpipe.runtime import serve_app
from tests.kafka_io import create_topics, unique

pytestmark = pytest.mark.integration


def _metrics_app() -> Starlette:
    registry = CollectorRegistry()
    consumed = Counter("regpipe_records_consumed", "records", ["stage"], registry=registry)
    consumed.labels("normalizer").inc(42)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type="text/plain")

    return Starlette(routes=[Route("/metrics", metrics)])


async def test_snapshot_reads_metrics_and_the_groups_lag(kafka_bootstrap: str) -> None:
    topic, group = unique("monitor"), unique("monitor-group")
    await create_topics(kafka_bootstrap, [topic], partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for index in range(10):
            await producer.send_and_wait(topic, f"r{index}".encode())
    finally:
        await producer.stop()
    committer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
    await committer.start()
    try:
        committer.assign([TopicPartition(topic, 0)])
        await committer.commit({TopicPartition(topic, 0): OffsetAndMetadata(4, "")})
    finally:
        await committer.stop()

    async with serve_app(_metrics_app()) as port, httpx.AsyncClient(timeout=5) as client:
        target = MonitorTarget(
            {"normalizer": f"http://127.0.0.1:{port}/metrics", "deduplicator": "http://127.0.0.1:9/metrics"},
            kafka_bootstrap,
            (group, unique("never-committed")),
        )
        snapshot = await collect_snapshot(target, client)

    assert snapshot.lag[group] == 6  # 10 records, 4 committed
    assert [lag for name, lag in snapshot.lag.items() if name != group] == [None]
    consumed = [s for s in snapshot.samples("normalizer") if s.name == "regpipe_records_consumed_total"]
    assert [(s.label("stage"), s.value) for s in consumed] == [("normalizer", 42.0)]
    assert snapshot.scrapes["deduplicator"].error == "ConnectError"
