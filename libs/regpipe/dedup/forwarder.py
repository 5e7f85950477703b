"""The deduplicator stage's loop, today a verified pass-through from `registrar.normalized.v1` to the public topic.

Each record is decoded as a canonical event (a record that is not one is a bug upstream: the stage stops before
committing rather than publish it), re-published unchanged, and its offset committed only after every record of
the batch was acknowledged. Guarantee: at-least-once onto `registrar.events.v1`; the de-duplication by canonical
id that makes it effectively-once replaces the pass-through in a later change.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from regpipe.contract.cloudevents import from_kafka_record
from regpipe.kafka.topics import Topic
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import RECORDS_CONSUMED

__all__ = ["ForwarderConfig", "run_forwarder"]

_STAGE = "deduplicator"
_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ForwarderConfig:
    """Topics, consumer group and batch size of the stage."""

    group_id: str = "regpipe-deduplicator"
    input_topic: str = Topic.NORMALIZED.value
    output_topic: str = Topic.EVENTS.value
    batch_max: int = 500
    poll_timeout_ms: int = 500


async def run_forwarder(
    consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, config: ForwarderConfig, stop: asyncio.Event
) -> None:
    """Forward batches until `stop` is set; commits come last, after every produce of the batch was acknowledged."""
    while not stop.is_set():
        batches = await consumer.getmany(timeout_ms=config.poll_timeout_ms, max_records=config.batch_max)
        if not batches:
            continue
        sends: list[asyncio.Future[object]] = []
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for tp, records in batches.items():
            for record in records:
                headers = list(record.headers)
                # Validates the contract; raises RecordDecodeError (and stops the stage uncommitted) if broken.
                from_kafka_record(record.value or b"", headers)
                sends.append(
                    await producer.send(config.output_topic, value=record.value, key=record.key, headers=headers)
                )
            offsets[tp] = OffsetAndMetadata(records[-1].offset + 1, "")
            RECORDS_CONSUMED.labels(_STAGE).inc(len(records))
        await asyncio.gather(*sends)
        await consumer.commit(offsets)
