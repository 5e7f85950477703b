"""One provider event followed across services: with tracing switched on by the standard OTEL_* variables, the
receiver's, the normalizer's and the deduplicator's spans of one webhook form one linked trace."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from regpipe.kafka import ensure_topics
from regpipe.simulators.kit.webhook_sender import OutgoingWebhook, RetrySchedule, SenderAuth, WebhookSender
from regpipe.webhooks.auth import AuthScheme
from tests.conditions import eventually
from tests.e2e.pipeline import MOST_SECRET, Pipeline

pytestmark = pytest.mark.integration


def _spans(log: str) -> list[dict[str, Any]]:
    """The spans a service's console exporter wrote (one JSON object per line, beside its JSON logs)."""
    spans = []
    for line in log.splitlines():
        if line.startswith("{") and '"context"' in line and '"resource"' in line:
            spans.append(orjson.loads(line))
    return spans


async def test_one_webhooks_spans_are_linked_across_three_services(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
    await ensure_topics(kafka_bootstrap)
    tag = uuid.uuid4().hex[:8]
    event_id = f"evt_trace_{tag}"
    body = orjson.dumps(
        {
            "id": event_id,
            "type": "domain.expiring",
            "created_at": "2026-11-24T06:00:00Z",
            "data": {"domain": f"traced-{tag}.example", "checkpoint": 7, "expiresAt": "2026-12-01T06:00:00Z"},
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
            sent = await sender.send(OutgoingWebhook(event_id=event_id, event_type="domain.expiring", body=body))
            assert [attempt.status for attempt in sent.attempts] == [202]

        def dedup_span_exported() -> bool:
            return any(span["name"] == "deduplicate" for span in _spans(pipeline.deduplicator.log))

        await eventually(dedup_span_exported, "the deduplicator exported a span", timeout_s=90)
    finally:
        pipeline.stop()  # SIGTERM: each service exports what it still buffers

    by_service = {
        "receiver": _spans(pipeline.receiver.log),
        "normalizer": _spans(pipeline.normalizer.log),
        "deduplicator": _spans(pipeline.deduplicator.log),
    }
    publish = next(
        span
        for span in by_service["receiver"]
        if span["name"] == "publish raw" and span["attributes"].get("regpipe.raw_key") == f"most:{event_id}"
    )
    trace_id = publish["context"]["trace_id"]
    normalize = [s for s in by_service["normalizer"] if s["context"]["trace_id"] == trace_id]
    dedup = [s for s in by_service["deduplicator"] if s["context"]["trace_id"] == trace_id]
    assert [s["name"] for s in normalize] == ["normalize"]
    assert normalize[0]["parent_id"] == publish["context"]["span_id"]
    assert dedup, "the deduplicator's span of this event is in another trace"
    assert {s["parent_id"] for s in dedup} == {normalize[0]["context"]["span_id"]}
    services = {span["resource"]["attributes"]["service.name"] for span in (publish, *normalize, *dedup)}
    assert services == {"regpipe-webhook-receiver", "regpipe-normalizer", "regpipe-deduplicator"}
