"""Factory of the one Kafka producer a process keeps: acks=all and idempotent, as every stage's guarantee needs."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from regpipe.kafka.connection import KafkaConnection, kafka_connection

__all__ = ["create_producer"]


def create_producer(
    kafka: KafkaConnection | str,
    *,
    client_id: str,
    transactional_id: str | None = None,
    linger_ms: int = 5,
    request_timeout_ms: int = 15_000,
    max_batch_size: int = 16_384,
    max_request_size: int = 1_048_576,
    retry_backoff_ms: int = 100,
) -> AIOKafkaProducer:
    """A producer that only reports success once every in-sync replica has the record, without duplicates on retry.

    A small linger lets concurrent sends (e.g. many webhook requests) share one produce request. A bulk producer
    (a stage publishing whole batches) wants a larger `max_batch_size`: aiokafka keeps one produce request per
    broker in flight, holding at most one batch per partition, so the batch size bounds what a round trip carries.
    """
    return AIOKafkaProducer(
        **kafka_connection(kafka).client_options(),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        transactional_id=transactional_id,
        linger_ms=linger_ms,
        request_timeout_ms=request_timeout_ms,
        max_batch_size=max_batch_size,
        max_request_size=max_request_size,
        retry_backoff_ms=retry_backoff_ms,
        compression_type=None,
    )
