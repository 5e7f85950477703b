"""The running pipeline behind the console's browser tests: aggregator, delivery, normalizer and console as real
processes on the real broker and PostgreSQL, private topics and database, a local subscriber on 127.0.0.1."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from regpipe.stack.ports import free_port
from tests.aggregate.databases import fresh_database
from tests.delivery.receivers import Receivers, serve_receivers
from tests.kafka_io import create_topics, unique
from tests.service_process import ServiceUnderTest
from tests.services.aggregator.running import TOKEN as READ_TOKEN
from tests.services.aggregator.running import Replica, prepare
from tests.services.delivery.harness import TOKEN as ADMIN_TOKEN

__all__ = ["ADMIN_TOKEN", "OPERATOR", "VIEWER", "RunningConsole", "running_console"]

VIEWER = "console-viewer-" + secrets.token_hex(8)
OPERATOR = "console-operator-" + secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class RunningConsole:
    """Where everything listens, and the topics to feed."""

    url: str
    admin_url: str
    read_url: str
    bootstrap: str
    events_topic: str
    raw_topic: str
    quarantine_topic: str
    receivers: Receivers


async def _wait_ready(service: ServiceUnderTest, base: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            assert service.returncode is None, f"the service exited: {service.log[-3000:]}"
            try:
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"the service never became ready: {service.log[-3000:]}")


def _service(name: str, env: dict[str, str], log_dir: Path) -> tuple[ServiceUnderTest, str]:
    port = free_port()
    folder = log_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    service = ServiceUnderTest(name, {**env, "HEALTH_HOST": "127.0.0.1", "HEALTH_PORT": str(port)}, folder)
    return service, f"http://127.0.0.1:{port}"


@asynccontextmanager
async def running_console(bootstrap: str, server_dsn: str, log_dir: Path) -> AsyncIterator[RunningConsole]:
    """Start the services (concurrently), yield once every one is ready; stop them at the end."""
    dsn = await fresh_database(server_dsn)
    aggregator_env = await prepare(bootstrap, dsn)
    tag = unique("console")
    raw, normalized, quarantine, dlq = f"raw-{tag}", f"normalized-{tag}", f"quarantine-{tag}", f"dlq-{tag}"
    await create_topics(bootstrap, [raw, normalized, quarantine, dlq], partitions=1)

    aggregator = Replica(aggregator_env, log_dir)
    delivery, admin_url = _service(
        "delivery",
        {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "POSTGRES_DSN": dsn,
            "DELIVERY_INPUT_TOPIC": aggregator_env.events_topic,
            "DELIVERY_DLQ_TOPIC": dlq,
            "DELIVERY_GROUP_ID": f"delivery-{tag}",
            "DELIVERY_ADMIN_TOKEN": ADMIN_TOKEN,
            "DELIVERY_ALLOWED_NETWORKS": "127.0.0.0/8",
            "DELIVERY_RETRY_SCHEDULE_S": "0,1,1",
            "DELIVERY_RETRY_JITTER": "0",
            "DELIVERY_REQUEST_TIMEOUT_S": "5",
            "DELIVERY_LEASE_S": "10",
            "DELIVERY_POLL_INTERVAL_S": "0.1",
        },
        log_dir,
    )
    normalizer, normalizer_url = _service(
        "normalizer",
        {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "NORMALIZER_GROUP_ID": f"normalizer-{tag}",
            "NORMALIZER_INPUT_TOPIC": raw,
            "NORMALIZER_OUTPUT_TOPIC": normalized,
            "NORMALIZER_QUARANTINE_TOPIC": quarantine,
        },
        log_dir,
    )
    console, console_url = _service(
        "console",
        {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "CONSOLE_SESSION_SECRET": secrets.token_urlsafe(32),
            "CONSOLE_VIEWER_TOKENS": VIEWER,
            "CONSOLE_OPERATOR_TOKENS": OPERATOR,
            "CONSOLE_SECURE_COOKIES": "false",  # plain HTTP on 127.0.0.1
            "CONSOLE_READ_API_URL": aggregator.base,
            "CONSOLE_READ_API_TOKEN": READ_TOKEN,
            "CONSOLE_ADMIN_API_URL": admin_url,
            "CONSOLE_ADMIN_API_TOKEN": ADMIN_TOKEN,
            "CONSOLE_QUARANTINE_INPUT_TOPIC": quarantine,
            "CONSOLE_METRICS_URLS": f"normalizer={normalizer_url}/metrics,aggregator={aggregator.base}/metrics,"
            f"delivery={admin_url}/metrics",
            "CONSOLE_LAG_GROUPS": f"normalizer-{tag},{aggregator_env.group},delivery-{tag}",
        },
        log_dir,
    )
    async with AsyncExitStack() as stack:
        for process in (aggregator.process, delivery, normalizer, console):
            process.start()
            stack.callback(process.stop)
        await asyncio.gather(
            aggregator.wait_ready(timeout_s=90),
            _wait_ready(delivery, admin_url),
            _wait_ready(normalizer, normalizer_url),
            _wait_ready(console, console_url),
        )
        receivers = await stack.enter_async_context(serve_receivers(Receivers()))
        yield RunningConsole(
            url=console_url,
            admin_url=admin_url,
            read_url=aggregator.base,
            bootstrap=bootstrap,
            events_topic=aggregator_env.events_topic,
            raw_topic=raw,
            quarantine_topic=quarantine,
            receivers=receivers,
        )
