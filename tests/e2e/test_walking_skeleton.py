"""End to end on the real broker: a signed Most `domain.expiring` webhook comes out as one canonical event on
`registrar.events.v1`, through the real receiver, normalizer and deduplicator processes."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from regpipe.contract import CanonicalEvent, EventType, Outcome, Source, Transport, from_kafka_record
from regpipe.kafka import Topic, ensure_topics
from regpipe.replay.groups import committed_offsets
from regpipe.simulators.kit.webhook_sender import OutgoingWebhook, RetrySchedule, SenderAuth, WebhookSender
from regpipe.webhooks.auth import AuthScheme
from tests.conditions import eventually_async
from tests.e2e.pipeline import MOST_SECRET, Pipeline
from tests.kafka_io import header, read_topic

pytestmark = pytest.mark.integration


async def test_most_domain_expiring_webhook_becomes_one_canonical_event(kafka_bootstrap: str, tmp_path: Path) -> None:
    await ensure_topics(kafka_bootstrap)
    tag = uuid.uuid4().hex[:8]
    domain = f"skeleton-{tag}.example"
    event_id = f"evt_{tag}"
    body = orjson.dumps(
        {
            "id": event_id,
            "type": "domain.expiring",
            "created_at": "2026-11-24T06:00:00Z",
            "data": {"domain": domain.upper(), "checkpoint": 7, "daysLeft": 6.9, "expiresAt": "2026-12-01T06:00:00Z"},
        }
    )
    pipeline = Pipeline(kafka_bootstrap, tmp_path, tag)
    await pipeline.start()
    try:
        async with httpx.AsyncClient() as client:
            sender = WebhookSender(
                f"{pipeline.url}/webhooks/most",
                auth=SenderAuth(AuthScheme.STANDARD_WEBHOOKS, (MOST_SECRET,)),
                schedule=RetrySchedule(delays_s=(0.0,)),
                client=client,
            )
            webhook = OutgoingWebhook(event_id=event_id, event_type="domain.expiring", body=body)
            # Sent twice, as a provider retry would: the public topic still gets one event.
            first = await sender.send(webhook)
            second = await sender.send(webhook)
            assert [a.status for a in first.attempts] == [202]
            assert [a.status for a in second.attempts] == [202]
            unsigned = await client.post(f"{pipeline.url}/webhooks/most", content=body)
            assert unsigned.status_code == 401

        def ours(records: list[Any], key: bytes = domain.encode()) -> list[Any]:
            return [r for r in records if r.key == key]

        async def read(topic: Topic) -> list[Any]:
            return await read_topic(kafka_bootstrap, topic.value, timeout_s=1, settle_s=0.5)

        raw: list[Any] = []
        normalized: list[Any] = []
        events: list[CanonicalEvent] = []

        async def both_deliveries_on_raw() -> bool:
            raw[:] = ours(await read(Topic.RAW), f"most:{event_id}".encode())
            return len(raw) >= 2

        async def both_copies_normalized() -> bool:
            # The normalized topic is keyed by canonical id (docs/stages.md); the domain is the partition key.
            normalized[:] = [r for r in await read(Topic.NORMALIZED) if header(r, "ce_partitionkey") == domain]
            return len(normalized) >= 2

        async def deduplicator_decided_both() -> bool:
            committed = await committed_offsets(kafka_bootstrap, f"dedup-{tag}", Topic.NORMALIZED.value)
            return all(committed.get(r.partition, 0) > r.offset for r in normalized)

        async def published_once_at_least() -> bool:
            events[:] = [from_kafka_record(r.value, list(r.headers)) for r in ours(await read(Topic.EVENTS))]
            return bool(events)

        # Conditions, not pauses: both deliveries are on raw (the unsigned one was answered 401 before, so nothing
        # more can come), both copies were normalized, the deduplicator committed its decision on each (so a
        # doubled event would already be on the public topic), and the event is there.
        await eventually_async(both_deliveries_on_raw, "both deliveries on registrar.raw.v1", timeout_s=120)
        await eventually_async(both_copies_normalized, "both copies on registrar.normalized.v1", timeout_s=120)
        await eventually_async(deduplicator_decided_both, "the deduplicator committed both copies", timeout_s=120)
        await eventually_async(published_once_at_least, "the event on registrar.events.v1", timeout_s=120)
    finally:
        pipeline.stop()

    assert len(raw) == 2  # both deliveries kept as received; the unsigned one never published
    assert all(r.value == body for r in raw)
    assert len(events) == 1, events
    event = events[0]
    assert event.type is EventType.DOMAIN_EXPIRING
    assert event.source is Source.MOST
    assert event.outcome is Outcome.NOTIFICATION
    assert event.transport is Transport.WEBHOOK
    assert event.subject == domain
    assert event.provider_event_id == event_id
    assert event.data.model_dump()["checkpoint"] == 7
    assert event.lineage is not None
    assert event.lineage.topic == Topic.RAW.value
