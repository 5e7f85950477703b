"""The receiver on the real broker: what the providers send lands on `registrar.raw.v1` byte for byte with the
right headers (sealed when configured), a 202 names where, and nothing unauthenticated is ever published."""

from __future__ import annotations

import base64
import os
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from regpipe.contract.raw import RawHeaders, raw_key
from regpipe.contract.sealing import RawSealer, parse_keyring
from regpipe.contract.taxonomy import Source
from regpipe.kafka import ensure_topics
from regpipe.providers.coldmail.payloads import ColdMailEventType
from regpipe.providers.mapper import RawInput
from regpipe.providers.most.mapping import map_record
from regpipe.services.webhook_receiver.settings import WebhookReceiverSettings
from regpipe.simulators import coldmail, most
from regpipe.simulators.kit.webhook_sender import OutgoingWebhook, SenderAuth
from regpipe.stack.ports import free_port
from regpipe.webhooks.answers import AcceptedAnswer
from regpipe.webhooks.auth import AuthScheme
from regpipe.webhooks.standard_webhooks import signature_headers
from tests.kafka_io import Records, end_offsets, header, read_since

from .running import serve

pytestmark = pytest.mark.integration

MOST_SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()
COLDMAIL_TOKEN = "tok_" + uuid.uuid4().hex
SEAL_KEYS = f"k1:{base64.b64encode(os.urandom(32)).decode()}"
FAST = 0.0005  # provider retry schedules in milliseconds


def _settings(bootstrap: str, **overrides: Any) -> WebhookReceiverSettings:
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": bootstrap,
        "webhook_port": free_port(),
        "most_webhook_secrets": MOST_SECRET,
        "most_account": "acme-most",
        "coldmail_webhook_secrets": COLDMAIL_TOKEN,
        **overrides,
    }
    return WebhookReceiverSettings(**values)


@pytest.fixture
async def receiver(kafka_bootstrap: str) -> AsyncIterator[str]:
    await ensure_topics(kafka_bootstrap)
    async with serve(_settings(kafka_bootstrap)) as base_url:
        yield base_url


def _bodies_found(bodies: set[bytes]) -> Any:
    return lambda records: bodies <= {record.value for record in records}


async def _send_both_providers(base_url: str, seed: int) -> list[tuple[Source, OutgoingWebhook]]:
    rng = random.Random(seed)
    most_events = most.generate(rng, len(most.VARIANTS))
    coldmail_events = coldmail.generate(rng, len(coldmail.VARIANTS))
    async with httpx.AsyncClient() as client:
        most_sender = most.create_sender(
            f"{base_url}/webhooks/most",
            SenderAuth(AuthScheme.STANDARD_WEBHOOKS, (MOST_SECRET,)),
            client,
            time_scale=FAST,
        )
        coldmail_sender = coldmail.create_sender(
            f"{base_url}/webhooks/coldmail",
            SenderAuth(AuthScheme.PATH_TOKEN, (COLDMAIL_TOKEN,)),
            client,
            time_scale=FAST,
        )
        outcomes = [
            *await most_sender.send_all(most_events, concurrency=8),
            *await coldmail_sender.send_all(coldmail_events, concurrency=8),
        ]
    assert all(outcome.delivered for outcome in outcomes)
    assert all([a.status for a in outcome.attempts] == [202] for outcome in outcomes)
    return [(Source.MOST, e) for e in most_events] + [(Source.COLDMAIL, e) for e in coldmail_events]


async def test_every_simulated_event_lands_byte_identical_with_its_headers(receiver: str, kafka_bootstrap: str) -> None:
    since = await end_offsets(kafka_bootstrap)
    sent = await _send_both_providers(receiver, seed=101)

    records = await read_since(kafka_bootstrap, since, until=_bodies_found({e.body for _, e in sent}))
    by_body = {record.value: record for record in records}
    assert len(records) == len(sent), "each event exactly once: no duplicates, nothing unexpected"
    for source, event in sent:
        record = by_body[event.body]
        assert record.key == raw_key(source, event.event_id, event.body).encode()
        assert header(record, "source") == source.value
        assert header(record, "transport") == "webhook"
        assert header(record, "content-type") == "application/json"
        assert header(record, "provider-event-id") == event.event_id
        assert header(record, "provider-event-type") == event.event_type
        assert header(record, "account") == ("acme-most" if source is Source.MOST else None)
        assert header(record, "seal") is None
        assert header(record, "received-at")
        assert header(record, "ingest-id")


async def test_the_202_answer_points_at_the_record(receiver: str, kafka_bootstrap: str) -> None:
    since = await end_offsets(kafka_bootstrap)
    body = orjson.dumps({"event": "domain.order.failed", "eventId": uuid.uuid4().hex[:28], "data": {}})
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{receiver}/webhooks/coldmail/{COLDMAIL_TOKEN}",
            content=body,
            headers={"content-type": "application/json"},
        )
    assert answer.status_code == 202
    where = AcceptedAnswer.model_validate_json(answer.content).model_dump()  # the documented schema
    records = await read_since(kafka_bootstrap, since, until=_bodies_found({body}))
    [record] = [r for r in records if r.value == body]
    assert (record.partition, record.offset) == (where["partition"], where["offset"])


async def test_an_unsigned_query_cannot_change_the_account_of_a_signed_event(
    receiver: str, kafka_bootstrap: str
) -> None:
    # Finding (issue 12): `?account=` is outside the signature, so replaying a signed Most `balance.low` with
    # another query gave the same event id another account, hence another partition key: published twice.
    since = await end_offsets(kafka_bootstrap)
    event_id = uuid.uuid4().hex
    data = {"threshold": 50, "balance": "49.99", "source": "approx", "currency": "USD"}
    body = orjson.dumps({"id": event_id, "type": "balance.low", "created_at": "2026-05-01T11:00:00Z", "data": data})
    async with httpx.AsyncClient(base_url=receiver) as client:
        for query in ("", "?account=attacker", "?account=acme-most&account=other"):
            signed = signature_headers([MOST_SECRET], f"msg-{event_id}", body)
            answer = await client.post(f"/webhooks/most{query}", content=body, headers=signed)
            assert answer.status_code == 202
    records = await read_since(
        kafka_bootstrap, since, until=lambda rs: sum(r.value == body for r in rs) >= 3, timeout_s=60
    )
    mine = [record for record in records if record.value == body]
    assert len(mine) == 3
    assert {header(record, "account") for record in mine} == {"acme-most"}  # the configured account only
    assert {record.key for record in mine} == {raw_key(Source.MOST, event_id, body).encode()}
    events = [map_record(RawInput(body=r.value, headers=RawHeaders.from_kafka(r.headers))) for r in mine]
    assert {(e.id, e.partition_key) for [e] in events} == {(events[0][0].id, "account:acme-most")}


async def test_an_authenticated_body_that_is_not_json_is_published_raw(receiver: str, kafka_bootstrap: str) -> None:
    since = await end_offsets(kafka_bootstrap)
    body = b'{"event": "mailbox.created", "eventId": "' + uuid.uuid4().hex.encode() + b'", "data": {'
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{receiver}/webhooks/coldmail/{COLDMAIL_TOKEN}", content=body)
    assert answer.status_code == 202
    records = await read_since(kafka_bootstrap, since, until=_bodies_found({body}))
    [record] = [r for r in records if r.value == body]
    assert header(record, "provider-event-id") is None  # unreadable: the key is the content fingerprint
    assert record.key == raw_key(Source.COLDMAIL, None, body).encode()


async def test_unauthenticated_requests_are_never_published(receiver: str, kafka_bootstrap: str) -> None:
    run = uuid.uuid4().hex
    since = await end_offsets(kafka_bootstrap)
    forged = "whsec_" + base64.b64encode(os.urandom(24)).decode()

    def body(n: int) -> bytes:
        return orjson.dumps({"id": f"{run}-{n}", "type": "balance.low", "data": {}})

    attempts = [
        ("/webhooks/most", {}, body(1)),
        ("/webhooks/most", signature_headers([forged], "m", body(2)), body(2)),
        ("/webhooks/most", {**signature_headers([MOST_SECRET], "m", body(3)), "webhook-id": "other"}, body(3)),
        ("/webhooks/most", signature_headers([MOST_SECRET], "m", body(4), timestamp=1_600_000_000), body(4)),
        ("/webhooks/coldmail/tok_" + uuid.uuid4().hex, {}, body(5)),
        ("/webhooks/coldmail", {"authorization": f"Bearer {COLDMAIL_TOKEN}"}, body(6)),
    ]
    async with httpx.AsyncClient(base_url=receiver) as client:
        statuses = [(await client.post(path, content=b, headers=h)).status_code for path, h, b in attempts]
        sentinel = body(0)
        accepted = await client.post(
            "/webhooks/most", content=sentinel, headers=signature_headers([MOST_SECRET], f"{run}-0", sentinel)
        )
    assert statuses == [401, 401, 401, 401, 401, 404]
    assert accepted.status_code == 202

    records: Records = await read_since(kafka_bootstrap, since, until=_bodies_found({sentinel}))
    mine = [record for record in records if run.encode() in record.value]
    assert [record.value for record in mine] == [sentinel]


async def test_sealed_records_open_back_to_the_exact_bytes(kafka_bootstrap: str) -> None:
    await ensure_topics(kafka_bootstrap)
    settings = _settings(kafka_bootstrap, raw_seal_keys=SEAL_KEYS, raw_seal_active_key="k1")
    events = [
        coldmail.build_event(random.Random(5), ColdMailEventType.MAILBOX_CREATED),
        coldmail.build_event(random.Random(6), ColdMailEventType.PREWARMUP_ORDER_SUCCESS),
    ]
    since = await end_offsets(kafka_bootstrap)
    async with serve(settings) as base_url, httpx.AsyncClient() as client:
        sender = coldmail.create_sender(
            f"{base_url}/webhooks/coldmail",
            SenderAuth(AuthScheme.PATH_TOKEN, (COLDMAIL_TOKEN,)),
            client,
            time_scale=FAST,
        )
        assert all(outcome.delivered for outcome in await sender.send_all(events))

    sealer = RawSealer(parse_keyring(SEAL_KEYS), "k1")
    ids = {event.event_id for event in events}
    records = await read_since(
        kafka_bootstrap,
        since,
        until=lambda rs: ids <= {header(r, "provider-event-id") for r in rs},
    )
    opened = {}
    for record in records:
        if header(record, "provider-event-id") in ids:
            assert header(record, "seal") == "k1"
            opened[header(record, "provider-event-id")] = (record.value, sealer.open(record.value, "k1"))
    for event in events:
        sealed, plain = opened[event.event_id]
        assert plain == event.body
        secrets = _credentials(orjson.loads(event.body))
        assert secrets
        assert not [secret for secret in secrets if secret.encode() in sealed]


def _credentials(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k in ("password", "appPassword", "authenticatorSecret")]
        return found + [secret for v in value.values() for secret in _credentials(v)]
    if isinstance(value, list):
        return [secret for item in value for secret in _credentials(item)]
    return []
