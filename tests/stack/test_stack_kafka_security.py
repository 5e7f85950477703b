"""Least privilege proven on a real broker: SASL/SCRAM logins, the KRaft ACL authorizer and the access table's
grants. The internet-facing receiver may write the raw topic and nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError

from regpipe.kafka.topics import Topic
from regpipe.stack.kafka import KafkaServer
from tests.secured_kafka import secured_broker

pytestmark = pytest.mark.integration

_RECEIVER, _NORMALIZER = "regpipe-webhook-receiver", "regpipe-normalizer"


@pytest.fixture(scope="module")
async def secured() -> AsyncIterator[KafkaServer]:
    async with secured_broker((_RECEIVER, _NORMALIZER)) as server:
        yield server


async def _fetch_until_refused(consumer: AIOKafkaConsumer, tp: TopicPartition) -> None:
    """Fetch a few times: the authorizer's refusal surfaces on a fetch, not on assign."""
    for _ in range(20):
        await consumer.getmany(tp, timeout_ms=500)


def _as(server: KafkaServer, user: str) -> dict[str, str]:
    assert server.security is not None
    return {"bootstrap_servers": server.bootstrap_servers, **server.security.client_options(user)}


async def test_the_receiver_writes_raw_and_is_refused_the_public_topic(secured: KafkaServer) -> None:
    producer = AIOKafkaProducer(
        **_as(secured, _RECEIVER), acks="all", enable_idempotence=True, request_timeout_ms=10_000
    )
    await producer.start()
    try:
        await producer.send_and_wait(Topic.RAW.value, b"provider bytes")
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(Topic.EVENTS.value, b"forged canonical event")
    finally:
        await producer.stop()


async def test_the_receiver_cannot_read_raw_but_the_normalizer_can(secured: KafkaServer) -> None:
    raw = TopicPartition(Topic.RAW.value, 0)
    for user, allowed in ((_RECEIVER, False), (_NORMALIZER, True)):
        consumer = AIOKafkaConsumer(**_as(secured, user), enable_auto_commit=False, request_timeout_ms=10_000)
        await consumer.start()
        try:
            consumer.assign([raw])
            await consumer.seek_to_beginning(raw)
            if allowed:
                await consumer.getmany(raw, timeout_ms=2_000)
            else:
                with pytest.raises(KafkaError) as refused:
                    await _fetch_until_refused(consumer, raw)
                assert isinstance(refused.value, TopicAuthorizationFailedError), refused.value
        finally:
            await consumer.stop()


async def test_wrong_password_is_refused(secured: KafkaServer) -> None:
    options = {**_as(secured, _RECEIVER), "sasl_plain_password": "not-the-password"}
    producer = AIOKafkaProducer(**options, request_timeout_ms=5_000)
    with pytest.raises(KafkaError):
        await producer.start()
    await producer.stop()
