"""SIGKILL the receiver mid-stream: every event a provider got a 2xx for is already on Kafka, and after the
provider's retries every event is there (duplicates allowed, none missing). The receiver runs as production runs
it, `python -m regpipe.services.webhook_receiver`, on the session's broker."""

from __future__ import annotations

import asyncio
import base64
import os
import random
from pathlib import Path

import httpx
import pytest

from regpipe.kafka import ensure_topics
from regpipe.simulators import most
from regpipe.simulators.kit.webhook_sender import DeliveryOutcome, OutgoingWebhook, SenderAuth
from regpipe.stack.ports import free_port
from regpipe.webhooks.auth import AuthScheme
from tests.kafka_io import Records, end_offsets, header, read_since

from .running import ReceiverProcess

pytestmark = pytest.mark.integration

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()
EVENTS = 300
KILL_AFTER = 100
CONCURRENCY = 32


def _ids(records: Records) -> set[str | None]:
    return {header(record, "provider-event-id") for record in records}


async def test_sigkill_mid_stream_loses_no_event(kafka_bootstrap: str, tmp_path: Path) -> None:
    await ensure_topics(kafka_bootstrap)
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "MOST_WEBHOOK_SECRETS": SECRET, "LOG_LEVEL": "WARNING"}
    receiver = ReceiverProcess(env, free_port(), tmp_path / "receiver.log")
    events = most.generate(random.Random(31), EVENTS)
    since = await end_offsets(kafka_bootstrap)
    acknowledged: list[str] = []
    await receiver.start()
    try:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=CONCURRENCY)) as client:
            # Most's schedule at 1/60 speed: retries after 0 s, 1 s, 10 s and 60 s, so the provider outlasts the
            # restart of the receiver on a loaded machine (at 1/300 it gave up after 14 s).
            sender = most.create_sender(
                f"{receiver.base_url}/webhooks/most",
                SenderAuth(AuthScheme.STANDARD_WEBHOOKS, (SECRET,)),
                client,
                time_scale=1 / 60,
            )
            gate = asyncio.Semaphore(CONCURRENCY)
            enough = asyncio.Event()

            async def deliver(event: OutgoingWebhook) -> DeliveryOutcome:
                async with gate:
                    outcome = await sender.send(event)
                if outcome.delivered:
                    acknowledged.append(event.event_id)
                    if len(acknowledged) >= KILL_AFTER:
                        enough.set()
                return outcome

            tasks = [asyncio.create_task(deliver(event)) for event in events]
            await asyncio.wait_for(enough.wait(), timeout=60)
            await receiver.kill()
            answered_before_kill = set(acknowledged)
            in_flight = sum(not task.done() for task in tasks)

            # The promise behind every 2xx: Kafka had the record before the answer left.
            records = await read_since(
                kafka_bootstrap, since, until=lambda rs: answered_before_kill <= _ids(rs), timeout_s=60
            )
            assert answered_before_kill <= _ids(records)

            await receiver.start()
            outcomes = await asyncio.gather(*tasks)
    finally:
        await receiver.stop()

    assert in_flight > 0, "the kill must land mid-stream"
    assert all(outcome.delivered for outcome in outcomes)
    assert any(attempt.status != 202 for outcome in outcomes for attempt in outcome.attempts), "the kill was felt"
    every_id = {event.event_id for event in events}
    records = await read_since(kafka_bootstrap, since, until=lambda rs: every_id <= _ids(rs))
    assert every_id <= _ids(records)
    bodies: dict[str | None, bytes] = {event.event_id: event.body for event in events}
    assert all(record.value == bodies[header(record, "provider-event-id")] for record in records)
