"""The receiver with two uvicorn workers, as production runs it: `/metrics` on the internal port counts the
requests of both workers (prometheus_client multiprocess mode), and the public port serves neither metrics nor
API docs."""

from __future__ import annotations

import asyncio
import base64
import os
import random
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from regpipe.kafka import ensure_topics
from regpipe.simulators import most
from regpipe.simulators.kit.webhook_sender import SenderAuth
from regpipe.stack.ports import free_port
from regpipe.webhooks.auth import AuthScheme

from .running import ReceiverProcess

pytestmark = pytest.mark.integration

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()
_PUBLISHED = "regpipe_ingest_published_total"
BATCH = 40


def _published_per_process(directory: Path) -> dict[str, float]:
    """Each worker's own count, read from its value file (the multiprocess directory holds one per process)."""
    counts: dict[str, float] = {}
    for path in directory.glob("counter_*.db"):
        total = 0.0
        values = MmapedDict.read_all_values_from_file(str(path))  # type: ignore[no-untyped-call]  # untyped upstream
        for key, value, _timestamp, _pos in values:
            if f'"{_PUBLISHED}"' in key and '"most"' in key:
                total += value
        counts[path.stem] = total
    return counts


async def _scrape_published(client: httpx.AsyncClient, url: str) -> float:
    text = (await client.get(url)).raise_for_status().text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == _PUBLISHED and sample.labels.get("source") == "most":
                return sample.value
    return 0.0


async def test_metrics_sum_both_workers_and_stay_off_the_public_port(kafka_bootstrap: str, tmp_path: Path) -> None:
    await ensure_topics(kafka_bootstrap)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()  # in production an emptyDir volume: it exists before the process imports prometheus_client
    metrics_port = free_port()
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "MOST_WEBHOOK_SECRETS": SECRET,
        "WEBHOOK_WORKERS": "2",
        "METRICS_PORT": str(metrics_port),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "LOG_LEVEL": "WARNING",
    }
    receiver = ReceiverProcess(env, free_port(), tmp_path / "receiver.log")
    metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    events = iter(most.generate(random.Random(5), 4000))
    delivered = 0
    await receiver.start()
    try:
        # No keep-alive: every request is a new connection, which either worker may accept.
        limits = httpx.Limits(max_connections=8, max_keepalive_connections=0)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            sender = most.create_sender(
                f"{receiver.base_url}/webhooks/most", SenderAuth(AuthScheme.STANDARD_WEBHOOKS, (SECRET,)), client
            )
            deadline = time.monotonic() + 60
            # Until both workers have published some (the kernel decides who accepts a connection).
            while sum(count > 0 for count in _published_per_process(metrics_dir).values()) < 2:
                assert time.monotonic() < deadline, f"one worker took every connection: {receiver.output()}"
                outcomes = await asyncio.gather(*(sender.send(next(events)) for _ in range(BATCH)))
                assert all(outcome.delivered for outcome in outcomes)
                delivered += BATCH

            # A count lands right after Kafka's ack, next to the answer: wait for the last ones.
            while sum(_published_per_process(metrics_dir).values()) < delivered:
                assert time.monotonic() < deadline + 30
                await asyncio.sleep(0.1)
            per_process = _published_per_process(metrics_dir)
            assert sum(per_process.values()) == delivered
            assert max(per_process.values()) < delivered  # really split between the workers
            assert await _scrape_published(client, metrics_url) == delivered

            for path in ("/metrics", "/docs", "/openapi.json"):
                assert (await client.get(f"{receiver.base_url}{path}")).status_code == 404, path
            assert (await client.get(f"{receiver.base_url}/readyz")).status_code == 200
    finally:
        await receiver.stop()
