"""The services log in: on a broker with SASL/SCRAM and the ACL authorizer, each service runs as its own principal
with exactly the grants of `regpipe.kafka.access`, and an event still flows from a webhook to the public topic, the
aggregator and the delivery intake. A service that connected without its login (or with another principal's
grants) would be refused by the broker and nothing would arrive."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from pydantic import SecretStr

from regpipe.kafka.connection import KafkaConnection, KafkaLogin
from regpipe.kafka.topics import Topic
from regpipe.monitor.lag import consumer_lag
from regpipe.simulators.kit.webhook_sender import OutgoingWebhook, RetrySchedule, SenderAuth, WebhookSender
from regpipe.stack.kafka import KafkaServer
from regpipe.stack.ports import free_port
from regpipe.webhooks.auth import AuthScheme
from tests.conditions import eventually_async
from tests.e2e.pipeline import MOST_SECRET
from tests.secured_kafka import secured_broker
from tests.service_process import ServiceUnderTest

pytestmark = pytest.mark.integration

_SERVICES = ("webhook_receiver", "normalizer", "deduplicator", "aggregator", "delivery")
_READ_TOKEN = "least-privilege-read-token"


def _principal(service: str) -> str:
    return "regpipe-" + service.replace("_", "-")


@pytest.fixture(scope="module")
async def secured() -> AsyncIterator[KafkaServer]:
    users = ["regpipe-console", *map(_principal, _SERVICES)]
    async with secured_broker(users, prefix="regpipe-sasl-pipeline-") as server:
        yield server


def _login_env(server: KafkaServer, service: str) -> dict[str, str]:
    assert server.security is not None
    name = _principal(service)
    return {
        "KAFKA_BOOTSTRAP_SERVERS": server.bootstrap_servers,
        "KAFKA_SASL_USERNAME": name,
        "KAFKA_SASL_PASSWORD": server.security.users[name],
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    }


@pytest.fixture
def ports() -> dict[str, int]:
    return {service: free_port() for service in _SERVICES}


@pytest.fixture
def services(
    secured: KafkaServer, pg_dsn: str, ports: dict[str, int], tmp_path: Path
) -> Iterator[dict[str, ServiceUnderTest]]:
    own = {
        "webhook_receiver": {
            "WEBHOOK_HOST": "127.0.0.1",
            "WEBHOOK_PORT": str(ports["webhook_receiver"]),
            "MOST_AUTH_SCHEME": "standard_webhooks",
            "MOST_WEBHOOK_SECRETS": MOST_SECRET,
        },
        "aggregator": {"POSTGRES_DSN": pg_dsn, "AGGREGATOR_API_TOKENS": _READ_TOKEN},
        "delivery": {
            "POSTGRES_DSN": pg_dsn,
            "DELIVERY_ADMIN_TOKEN": "least-privilege-admin-token",
            "DELIVERY_ALLOWED_NETWORKS": "127.0.0.0/8",
        },
    }
    running = {}
    for service in _SERVICES:
        env = {"HEALTH_HOST": "127.0.0.1", "HEALTH_PORT": str(ports[service])} | own.get(service, {})
        running[service] = ServiceUnderTest(service, _login_env(secured, service) | env, tmp_path)
        running[service].start()
    try:
        yield running
    finally:
        for service in reversed(_SERVICES):
            running[service].stop()


async def _public_event_ids(server: KafkaServer) -> set[str]:
    consumer = AIOKafkaConsumer(
        Topic.EVENTS.value,
        **server.client_options(),
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        found: set[str] = set()
        for records in (await consumer.getmany(timeout_ms=2_000)).values():
            # CloudEvents binary mode: the provider's event id is a header.
            found.update(dict(record.headers).get("ce_providereventid", b"").decode() for record in records)
        return found
    finally:
        await consumer.stop()


async def test_every_service_runs_as_its_own_principal_and_an_event_flows(
    secured: KafkaServer, services: dict[str, ServiceUnderTest], ports: dict[str, int]
) -> None:
    receiver_url = f"http://127.0.0.1:{ports['webhook_receiver']}"
    tag = uuid.uuid4().hex[:8]
    event_id = f"evt_sasl_{tag}"
    domain = f"sasl-{tag}.example"
    body = orjson.dumps(
        {
            "id": event_id,
            "type": "domain.expiring",
            "created_at": "2026-11-24T06:00:00Z",
            "data": {"domain": domain, "checkpoint": 7, "expiresAt": "2026-12-01T06:00:00Z"},
        }
    )
    async with httpx.AsyncClient(timeout=5) as client:

        async def receiver_ready() -> bool:
            try:
                return (await client.get(f"{receiver_url}/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually_async(receiver_ready, "the receiver is ready (its producer logged in)", timeout_s=120)
        sender = WebhookSender(
            f"{receiver_url}/webhooks/most",
            auth=SenderAuth(AuthScheme.STANDARD_WEBHOOKS, (MOST_SECRET,)),
            schedule=RetrySchedule(delays_s=(0.0,)),
            client=client,
        )
        sent = await sender.send(OutgoingWebhook(event_id=event_id, event_type="domain.expiring", body=body))
        assert [attempt.status for attempt in sent.attempts] == [202]

        async def on_public_topic() -> bool:
            return event_id in await _public_event_ids(secured)

        await eventually_async(on_public_topic, "the event reached registrar.events.v1", timeout_s=120)

        aggregator_url = f"http://127.0.0.1:{ports['aggregator']}"

        async def in_read_model() -> bool:
            try:
                answer = await client.get(
                    f"{aggregator_url}/domains/{domain}", headers={"Authorization": f"Bearer {_READ_TOKEN}"}
                )
            except httpx.TransportError:
                return False  # not listening yet
            return answer.status_code == 200

        await eventually_async(in_read_model, "the aggregator folded the event into its read model", timeout_s=120)

    # The delivery intake and the aggregator read the public topic under their own principals and committed in
    # their own groups; their lag is read as the console reads it, logged in as the console (Describe only).
    assert secured.security is not None
    console_login = KafkaLogin("regpipe-console", SecretStr(secured.security.users["regpipe-console"]))
    console = KafkaConnection(secured.bootstrap_servers, login=console_login)

    async def delivery_caught_up() -> bool:
        lag = await consumer_lag(console, ["regpipe-delivery", "regpipe-aggregator"])
        return lag == {"regpipe-delivery": 0, "regpipe-aggregator": 0}

    await eventually_async(delivery_caught_up, "delivery and aggregator committed the public topic", timeout_s=120)
    for service in _SERVICES:
        assert services[service].returncode is None, services[service].log[-2000:]
        assert "SaslAuthenticationFailed" not in services[service].log
        refusals = [line for line in services[service].log.splitlines() if "AuthorizationFailed" in line]
        assert not refusals, refusals[:3]
