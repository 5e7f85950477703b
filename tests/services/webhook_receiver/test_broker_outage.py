"""Kafka down: the receiver answers 503 with Retry-After and turns unready; the provider's retries deliver every
event once the broker is back, and nothing is lost. Runs on a broker of its own, so killing it disturbs no other
test."""

from __future__ import annotations

import asyncio
import base64
import os
import random
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from regpipe.kafka import ensure_topics
from regpipe.services.webhook_receiver.settings import WebhookReceiverSettings
from regpipe.simulators import most
from regpipe.simulators.kit.webhook_sender import SenderAuth
from regpipe.stack.kafka import KafkaServer
from regpipe.stack.ports import free_port
from regpipe.webhooks.auth import AuthScheme
from regpipe.webhooks.standard_webhooks import signature_headers
from tests.conditions import eventually
from tests.kafka_io import end_offsets, read_since

from .running import serve

pytestmark = pytest.mark.integration

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()


def _publish_failures() -> float:
    """Webhooks the receiver (served in this process) answered 503 because Kafka did not acknowledge them."""
    value = REGISTRY.get_sample_value("regpipe_ingest_publish_failed_total", {"source": "most", "transport": "webhook"})
    return value or 0.0


async def _wait_readiness(client: httpx.AsyncClient, status: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while (await client.get("/readyz")).status_code != status:
        assert time.monotonic() < deadline, f"/readyz never answered {status}"
        await asyncio.sleep(0.2)


async def test_broker_outage_is_503_then_the_providers_retries_deliver_everything(tmp_path: Path) -> None:
    broker = KafkaServer(tmp_path / "kafka")
    await broker.astart()
    try:
        await ensure_topics(broker.bootstrap_servers)
        since = await end_offsets(broker.bootstrap_servers)
        settings = WebhookReceiverSettings(
            kafka_bootstrap_servers=broker.bootstrap_servers,
            webhook_port=free_port(),
            most_webhook_secrets=SECRET,
            kafka_publish_timeout_s=1.0,
            kafka_probe_interval_s=0.5,
            webhook_retry_after_s=2,
        )
        events = most.generate(random.Random(21), 12)
        async with serve(settings) as base_url, httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            # Most's schedule at 1/60 speed: retries after 0 s, 1 s, 10 s and 60 s, so the provider outlasts a
            # broker restart on a loaded machine (at 1/200 it gave up after 18 s).
            sender = most.create_sender(
                f"{base_url}/webhooks/most",
                SenderAuth(AuthScheme.STANDARD_WEBHOOKS, (SECRET,)),
                client,
                time_scale=1 / 60,
            )
            assert [a.status for a in (await sender.send(events[0])).attempts] == [202]

            broker.kill()
            probe = events[1]
            answer = await client.post(
                "/webhooks/most", content=probe.body, headers=signature_headers([SECRET], probe.event_id, probe.body)
            )
            assert answer.status_code == 503
            assert answer.headers["retry-after"] == "2"
            assert answer.json()["error"] == "kafka_unavailable"
            await _wait_readiness(client, 503)

            failed_before = _publish_failures()
            sending = asyncio.create_task(sender.send_all(events[1:], concurrency=len(events)))
            # Restart only once every event was answered 503 at least once (not after a fixed pause, which a
            # loaded machine can outlast before the first attempts are even made).
            await eventually(
                lambda: _publish_failures() >= failed_before + len(events) - 1, "every event answered 503 once"
            )
            await asyncio.to_thread(broker.restart)
            await broker.wait_ready()
            outcomes = await sending
            await _wait_readiness(client, 200)

        assert all(outcome.delivered for outcome in outcomes)
        assert all(outcome.attempts[0].status == 503 for outcome in outcomes), "sent while the broker was down"
        bodies = {event.body for event in events}
        records = await read_since(
            broker.bootstrap_servers, since, until=lambda rs: bodies <= {r.value for r in rs}, timeout_s=60
        )
        assert bodies <= {record.value for record in records}, "an event the provider gave up on would be lost"
    finally:
        await broker.astop()
