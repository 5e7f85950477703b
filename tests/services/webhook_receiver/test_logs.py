"""No secret reaches the receiver's logs, even at DEBUG: not the webhook secrets or tokens (configured or
attempted), not the sealing key, not the credentials or EPP auth codes in the bodies."""

from __future__ import annotations

import base64
import os
import random
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from regpipe.kafka import ensure_topics
from regpipe.providers.coldmail.payloads import ColdMailEventType
from regpipe.providers.most.payloads import MostEventType, TaskType
from regpipe.simulators import coldmail, most
from regpipe.stack.ports import free_port
from regpipe.webhooks.standard_webhooks import signature_headers

from .running import ReceiverProcess

pytestmark = pytest.mark.integration

MOST_SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()
COLDMAIL_TOKEN = "tok_" + uuid.uuid4().hex
SEAL_KEY = base64.b64encode(os.urandom(32)).decode()


def _secret_values(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k in ("password", "appPassword", "authenticatorSecret", "authInfo")]
        return found + [s for v in value.values() for s in _secret_values(v)]
    if isinstance(value, list):
        return [s for item in value for s in _secret_values(item)]
    return []


async def test_requests_carrying_secrets_leave_none_in_the_logs(kafka_bootstrap: str, tmp_path: Path) -> None:
    await ensure_topics(kafka_bootstrap)
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "MOST_WEBHOOK_SECRETS": MOST_SECRET,
        "COLDMAIL_WEBHOOK_SECRETS": COLDMAIL_TOKEN,
        "RAW_SEAL_KEYS": f"k1:{SEAL_KEY}",
        "RAW_SEAL_ACTIVE_KEY": "k1",
        "LOG_LEVEL": "DEBUG",
    }
    receiver = ReceiverProcess(env, free_port(), tmp_path / "receiver.log")
    rng = random.Random(41)
    mailbox = coldmail.build_event(rng, ColdMailEventType.MAILBOX_CREATED)
    prewarmup = coldmail.build_event(rng, ColdMailEventType.PREWARMUP_ORDER_SUCCESS)
    auth_info = most.build_event(
        rng, MostEventType.TASK_COMPLETED, task_type=TaskType.GET_AUTH_INFO, status="COMPLETED"
    )
    broken = b'{"event": "mailbox.updated", "data": {"password": "Br0ken-' + uuid.uuid4().hex.encode() + b'"'
    wrong_token = "tok_" + uuid.uuid4().hex
    secrets = [
        MOST_SECRET,
        MOST_SECRET.removeprefix("whsec_"),
        COLDMAIL_TOKEN,
        wrong_token,
        SEAL_KEY,
        broken.decode().split('"password": "')[1].rstrip('"'),
        *_secret_values(orjson.loads(mailbox.body)),
        *_secret_values(orjson.loads(prewarmup.body)),
        *_secret_values(orjson.loads(auth_info.body)),
    ]
    await receiver.start()
    try:
        async with httpx.AsyncClient(base_url=receiver.base_url) as client:
            statuses = [
                (await client.post(f"/webhooks/coldmail/{COLDMAIL_TOKEN}", content=mailbox.body)).status_code,
                (await client.post(f"/webhooks/coldmail/{COLDMAIL_TOKEN}", content=prewarmup.body)).status_code,
                (await client.post(f"/webhooks/coldmail/{COLDMAIL_TOKEN}", content=broken)).status_code,
                (await client.post(f"/webhooks/coldmail/{wrong_token}", content=mailbox.body)).status_code,
                (
                    await client.post(
                        "/webhooks/most",
                        content=auth_info.body,
                        headers=signature_headers([MOST_SECRET], auth_info.event_id, auth_info.body),
                    )
                ).status_code,
                (await client.post("/webhooks/most", content=auth_info.body)).status_code,
            ]
    finally:
        await receiver.stop()

    assert statuses == [202, 202, 202, 401, 202, 401]
    logs = receiver.output()
    assert "webhook refused" in logs, "the logs were captured (else this test could not fail)"
    assert "kafka producer started" in logs
    assert len(secrets) > 10
    assert [secret for secret in secrets if secret in logs] == []
