"""Starting the aggregator service as a real process for tests, with private topics, group and database."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from regpipe.stack.ports import free_port
from tests.kafka_io import create_topics, unique
from tests.service_process import ServiceUnderTest

TOKEN = "test-reader-token"


@dataclass
class AggregatorEnv:
    """Topics, group and database of one test's aggregator replicas."""

    bootstrap: str
    dsn: str
    events_topic: str
    outbox_topic: str
    group: str

    def env(self, port: int, **extra: str) -> dict[str, str]:
        """The environment of one replica serving its API on `port`."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "POSTGRES_DSN": self.dsn,
            "AGGREGATOR_INPUT_TOPIC": self.events_topic,
            "AGGREGATOR_OUTBOX_TOPIC": self.outbox_topic,
            "AGGREGATOR_GROUP_ID": self.group,
            "AGGREGATOR_API_TOKENS": f"other-token,{TOKEN}",
            "AGGREGATOR_SCAN_INTERVAL_S": "0.5",
            "AGGREGATOR_SETTLE_QUIET_S": "2",
            "HEALTH_HOST": "127.0.0.1",
            "HEALTH_PORT": str(port),
            "LEASE_RETRY_INTERVAL_S": "0.3",
            "LEASE_CHECK_INTERVAL_S": "0.5",
            **extra,
        }


async def prepare(bootstrap: str, dsn: str) -> AggregatorEnv:
    """Private topics for one test."""
    tag = unique("agg")
    env = AggregatorEnv(bootstrap, dsn, f"events-{tag}", f"normalized-{tag}", f"group-{tag}")
    await create_topics(bootstrap, [env.events_topic, env.outbox_topic], partitions=3)
    return env


class Replica:
    """One aggregator process and an HTTP client for its API."""

    def __init__(self, env: AggregatorEnv, log_dir: Path, name: str = "aggregator", **extra: str) -> None:
        self.port = free_port()
        log_dir = log_dir / name
        log_dir.mkdir(parents=True, exist_ok=True)
        self.process = ServiceUnderTest("aggregator", env.env(self.port, **extra), log_dir)
        self.base = f"http://127.0.0.1:{self.port}"

    def client(self, *, token: str | None = TOKEN) -> httpx.AsyncClient:
        """A client of the replica's API (with the bearer token unless `token` is None)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.base, headers=headers, timeout=10)

    async def wait_ready(self, timeout_s: float = 60) -> None:
        """Poll /readyz until 200."""
        deadline = time.monotonic() + timeout_s
        async with self.client(token=None) as client:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise AssertionError(f"aggregator exited {self.process.returncode}:\n{self.process.log[-3000:]}")
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"aggregator never ready:\n{self.process.log[-3000:]}")
