"""Consumer-group lag read from the broker, as an operator's tools read it (committed offsets vs end offsets)."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from regpipe.kafka.connection import KafkaConnection, kafka_connection

__all__ = ["consumer_lag"]


async def consumer_lag(kafka: KafkaConnection | str, groups: Sequence[str]) -> dict[str, int | None]:
    """The total lag of each group over the partitions it has committed offsets for (None: no offsets yet)."""
    options = kafka_connection(kafka).client_options()
    admin = AIOKafkaAdminClient(**options, client_id="regpipe-monitor")
    reader = AIOKafkaConsumer(**options, client_id="regpipe-monitor", group_id=None)
    await admin.start()
    await reader.start()
    try:
        lags: dict[str, int | None] = {}
        for group in groups:
            committed = await admin.list_consumer_group_offsets(group)
            positions = {tp: meta.offset for tp, meta in committed.items() if meta.offset >= 0}
            if not positions:
                lags[group] = None
                continue
            ends = await reader.end_offsets(list(positions))
            lags[group] = sum(max(0, ends[tp] - offset) for tp, offset in positions.items())
        return lags
    except KafkaError:
        return dict.fromkeys(groups)
    finally:
        await reader.stop()
        await admin.close()
