"""A mixed stream of hostile records through the running receiver, normalizer and deduplicator: every stage keeps
moving, every bad record is in quarantine with the reason the pure processor gives it, no secret marker reaches
the normalized or public topic or any log, and no id is on the public topic twice."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from regpipe.contract import from_kafka_record
from regpipe.contract.raw import RawHeaders, raw_key
from regpipe.contract.taxonomy import Source, Transport
from regpipe.kafka import Topic, ensure_topics
from regpipe.simulators.kit.webhook_sender import OutgoingWebhook, RetrySchedule, SenderAuth, WebhookSender
from regpipe.webhooks.auth import AuthScheme
from tests.conditions import eventually_async
from tests.e2e.pipeline import MOST_SECRET, Pipeline
from tests.kafka_io import produce_records, read_topic, wait_until_committed
from tests.normalize.provider_stream import RawTuple, expected_outcome

pytestmark = pytest.mark.integration

_VALID = 150


def _envelope(event_id: str, event_type: str, data: Any) -> bytes:
    return orjson.dumps({"id": event_id, "type": event_type, "created_at": "2026-11-24T06:00:00Z", "data": data})


def _expiring(domain: str, **extra: Any) -> dict[str, Any]:
    return {"domain": domain, "checkpoint": 7, "expiresAt": "2026-12-01T06:00:00Z", **extra}


def _auth_info_task(marker: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "taskId": f"tsk_{uuid.uuid4().hex[:10]}",
        "type": "domain.get_auth_info",
        "status": "COMPLETED",
        "createdAt": "2026-11-24T05:00:00Z",
        "completedAt": "2026-11-24T05:01:00Z",
        "result": [{"domain": "tailspin-toys.com", "ok": True, **item}],
    }


def _hostile_webhooks(tag: str, marker: str) -> list[tuple[str, str, bytes]]:
    """(event id, type, body) of every hostile class the receiver authenticates and publishes."""
    # Deeper than any JSON encoder writes: built as bytes.
    deep = (
        b'{"id": "%s", "type": "domain.expiring", "created_at": "2026-11-24T06:00:00Z", "data": {"domain": '
        + f'"deep-{tag}.example", "checkpoint": 7, "extra": '.encode()
        + b'{"n": ' * 3000
        + b"1"
        + b"}" * 3000
        + b"}}"
    )
    huge = (
        b'{"id": "%s", "type": "domain.expiring", "created_at": "2026-11-24T06:00:00Z", '
        b'"data": {"domain": "a.example", "checkpoint": ' + b"9" * 5000 + b"}}"
    )
    cases: list[tuple[str, str, bytes | dict[str, Any]]] = [
        ("deep", "domain.expiring", deep),
        ("huge", "domain.expiring", huge),
        ("crlf", "domain.expiring", _expiring(f"evil-{tag}.example\r\nx-injected: 1")),
        ("nul", "domain.expiring", _expiring(f"evil-{tag}\x00.example")),
        ("url", "domain.expiring", _expiring(f"https://evil-{tag}.example/path")),
        ("label", "domain.expiring", _expiring("a" * 300 + ".example")),
        ("broken", "domain.expiring", b'{"id": "%s", "type": "domain.expiring", "data": {'),
        ("code", "task.completed", _auth_info_task(marker, {"data": {"code": marker}})),
        ("pw", "task.completed", _auth_info_task(marker, {"data": {"authorizationCode": marker}})),
        ("pairs", "task.completed", _auth_info_task(marker, {"data": {"fields": [{"name": "authInfo", "value": marker}]}})),  # noqa: E501
        ("quoted", "task.completed", _auth_info_task(marker, {"ok": False, "error": {"message": f"{marker} bad"}})),
        ("otp", "task.completed", _auth_info_task(marker, {"data": {"note": f"otpauth://totp/x?secret={marker}"}})),
        ("time", "domain.expiring", _expiring(f"time-{tag}.example", expiresAt=253402300799)),
    ]  # fmt: skip
    webhooks = []
    for name, event_type, payload in cases:
        event_id = f"evt_{name}_{tag}"
        if isinstance(payload, bytes):
            body = payload.replace(b"%s", event_id.encode()) if b"%s" in payload else payload
        else:
            body = _envelope(event_id, event_type, payload)
        webhooks.append((event_id, event_type, body))
    return webhooks


def _as_raw(event_id: str, event_type: str, body: bytes) -> RawTuple:
    """The raw record the receiver publishes for a webhook (what the pure processor is judged on)."""
    headers = RawHeaders(
        source=Source.MOST,
        transport=Transport.WEBHOOK,
        content_type="application/json",
        provider_event_id=event_id,
        provider_event_type=event_type,
    )
    return raw_key(Source.MOST, event_id, body).encode(), body, headers.to_kafka()


def _deep_email(tag: str) -> RawTuple:
    """An OpenSRS notification e-mail nested ~950 multiparts deep, straight onto the raw topic."""
    parts = [f"Subject: Event notification: DOMAIN: DELETED: {tag}\r\nMIME-Version: 1.0\r\n"]
    for level in range(950):
        parts.append(f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n')
    body = "".join(parts).encode() + b"Content-Type: text/plain\r\n\r\n{}\r\n"
    headers = RawHeaders(
        source=Source.OPENSRS, transport=Transport.EMAIL, content_type="message/rfc822", provider_event_id=tag
    )
    return raw_key(Source.OPENSRS, tag, body).encode(), body, headers.to_kafka()


def _bad_headers(tag: str) -> RawTuple:
    body = _envelope(f"evt_hdr_{tag}", "domain.expiring", _expiring(f"hdr-{tag}.example"))
    return f"most:evt_hdr_{tag}".encode(), body, [("source", b"\xff\xfe"), ("transport", b"webhook")]


async def test_hostile_stream_keeps_every_stage_moving_and_leaks_nothing(kafka_bootstrap: str, tmp_path: Path) -> None:
    await ensure_topics(kafka_bootstrap)
    tag = uuid.uuid4().hex[:8]
    marker = f"SECRETMARKER{tag}"
    hostile = _hostile_webhooks(tag, marker)
    valid = [
        (f"evt_ok{i}_{tag}", "domain.expiring", _envelope(f"evt_ok{i}_{tag}", "domain.expiring", _expiring(f"ok{i}-{tag}.example")))  # noqa: E501
        for i in range(_VALID)
    ]  # fmt: skip
    direct = [_deep_email(f"deep{tag}"), _bad_headers(tag)]
    expected = expected_outcome([_as_raw(*webhook) for webhook in (*hostile, *valid)] + direct)
    assert len(expected.quarantined) >= len(hostile) - 3  # the secret-bearing classes may also map, safely

    pipeline = Pipeline(kafka_bootstrap, tmp_path, tag)
    await pipeline.start()
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            sender = WebhookSender(
                f"{pipeline.url}/webhooks/most",
                auth=SenderAuth(AuthScheme.STANDARD_WEBHOOKS, (MOST_SECRET,)),
                schedule=RetrySchedule(delays_s=(0.0, 1.0, 2.0)),
                client=client,
            )
            for event_id, event_type, body in (*hostile, *valid):
                sent = await sender.send(OutgoingWebhook(event_id=event_id, event_type=event_type, body=body))
                assert sent.attempts[-1].status == 202, (event_id, [a.status for a in sent.attempts])
            # Unauthenticated: refused, never published.
            forged = _envelope(f"evt_forged_{tag}", "domain.deleted", _expiring(f"forged-{tag}.example"))
            assert (await client.post(f"{pipeline.url}/webhooks/most", content=forged)).status_code == 401
        await produce_records(kafka_bootstrap, Topic.RAW.value, direct)

        async def everything_committed() -> bool:
            await wait_until_committed(kafka_bootstrap, f"normalizer-{tag}", Topic.RAW.value, timeout_s=240)
            await wait_until_committed(kafka_bootstrap, f"dedup-{tag}", Topic.NORMALIZED.value, timeout_s=240)
            return True

        await eventually_async(everything_committed, "both stages committed to the end", timeout_s=300)
        assert pipeline.normalizer.returncode is None, pipeline.normalizer.log[-3000:]
        assert pipeline.deduplicator.returncode is None, pipeline.deduplicator.log[-3000:]
    finally:
        pipeline.stop()

    quarantine = await read_topic(kafka_bootstrap, Topic.QUARANTINE.value, timeout_s=5, settle_s=1)
    reasons = {
        record.key: dict(record.headers)["quarantine-reason"].decode()
        for record in quarantine
        if record.key in expected.quarantined
    }
    assert reasons == expected.quarantined

    public = await read_topic(kafka_bootstrap, Topic.EVENTS.value, timeout_s=5, settle_s=1)
    ours = [
        from_kafka_record(r.value, list(r.headers))
        for r in public
        if tag.encode() in (r.value or b"") or any(tag.encode() in v for _, v in r.headers)
    ]
    ids = [event.id for event in ours]
    assert len(ids) == len(set(ids)), "an id is on the public topic twice"
    assert expected.ids <= set(ids)
    forged_ids = [event for event in ours if event.subject == f"forged-{tag}.example"]
    assert not forged_ids, "an unauthenticated webhook reached the public topic"

    normalized = await read_topic(kafka_bootstrap, Topic.NORMALIZED.value, timeout_s=5, settle_s=1)
    for record in (*normalized, *public):
        assert marker.encode() not in (record.value or b"")
        assert all(marker.encode() not in value for _, value in record.headers)
    for service in (pipeline.receiver, pipeline.normalizer, pipeline.deduplicator):
        assert marker not in service.log, f"a secret reached the log of {service}"
