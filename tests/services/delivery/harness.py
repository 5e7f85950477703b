"""What the delivery service tests share: the service's environment, its admin API, paced event production."""

from __future__ import annotations

import asyncio
import base64
import socket
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer

from regpipe.contract import CanonicalEvent, to_kafka_record
from tests.dedup.events import expiring
from tests.kafka_io import create_topics, unique
from tests.service_process import ServiceUnderTest

TOKEN = "service-test-admin-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def service_env(
    bootstrap: str, dsn: str, *, schedule: str, lease_s: float = 10, timeout_s: float = 5
) -> dict[str, str]:
    """Environment of one test's delivery service(s): private topics, group and database; loopback allowed."""
    topic, dlq = unique("events"), unique("dlq")
    await create_topics(bootstrap, [topic], partitions=6)
    await create_topics(bootstrap, [dlq], partitions=1)
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "POSTGRES_DSN": dsn,
        "DELIVERY_INPUT_TOPIC": topic,
        "DELIVERY_DLQ_TOPIC": dlq,
        "DELIVERY_GROUP_ID": unique("delivery"),
        "DELIVERY_ADMIN_TOKEN": TOKEN,
        "DELIVERY_ALLOWED_NETWORKS": "127.0.0.0/8",
        "DELIVERY_RETRY_SCHEDULE_S": schedule,
        "DELIVERY_RETRY_JITTER": "0",
        "DELIVERY_REQUEST_TIMEOUT_S": str(timeout_s),
        "DELIVERY_LEASE_S": str(lease_s),
        "DELIVERY_POLL_INTERVAL_S": "0.1",
        "HEALTH_HOST": "127.0.0.1",
        # signing secrets sealed at rest (a demo key)
        "RAW_SEAL_KEYS": "svc1:" + base64.b64encode(bytes(range(32))).decode(),
        "RAW_SEAL_ACTIVE_KEY": "svc1",
    }


async def start_service(env: dict[str, str], log_dir: Path, name: str = "delivery") -> tuple[ServiceUnderTest, str]:
    """Start a replica on its own admin port; return it and its base URL once /readyz answers 200."""
    port = free_port()
    log_dir = log_dir / name
    log_dir.mkdir(parents=True, exist_ok=True)
    service = ServiceUnderTest("delivery", {**env, "HEALTH_PORT": str(port)}, log_dir)
    service.start()
    base = f"http://127.0.0.1:{port}"
    await wait_ready(service, base)
    return service, base


async def wait_ready(service: ServiceUnderTest, base: str, timeout_s: float = 60) -> None:
    """Poll /readyz until 200 (fail early if the process died)."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            assert service.returncode is None, f"the service exited: {service.log[-3000:]}"
            try:
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"the service never became ready: {service.log[-3000:]}")


async def subscribe(base: str, url: str, **spec: object) -> tuple[str, str]:
    """Create a subscription through the admin API; return (id, secret)."""
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{base}/v1/subscriptions", json={"url": url, **spec}, headers=AUTH)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return str(body["subscription"]["id"]), str(body["secret"])


def events(count: int) -> list[CanonicalEvent]:
    """`count` events of distinct domains (spread over the partitions)."""
    now = datetime.now(UTC)
    return [expiring(uuid.uuid4(), domain=f"d{i}-{uuid.uuid4().hex[:6]}.example", time=now) for i in range(count)]


async def produce_paced(bootstrap: str, topic: str, batch: list[CanonicalEvent], rate_per_s: float) -> dict[str, float]:
    """Produce at `rate_per_s`, each acknowledged; returns event id -> time.monotonic() when it was on the topic."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=0)
    await producer.start()
    on_topic: dict[str, float] = {}
    try:
        started = time.monotonic()
        for i, event in enumerate(batch):
            await asyncio.sleep(max(0.0, started + i / rate_per_s - time.monotonic()))
            record = to_kafka_record(event)
            await producer.send_and_wait(topic, key=record.key, value=record.value, headers=record.headers)
            on_topic[str(event.id)] = time.monotonic()
    finally:
        await producer.stop()
    return on_topic


def p99(values: list[float]) -> float:
    """The 99th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]
