"""The transactional outbox: aggregate events are written in the transaction that caused them, and relayed to Kafka.

Guarantee: every outbox row reaches `registrar.normalized.v1` at least once (a row is marked sent only after Kafka
acknowledged it; a crash in between sends it again), and the deduplicator drops a re-sent id, so each aggregate
event is on `registrar.events.v1` exactly once. Rows are stored as the exact record bytes, so a re-send is
byte-identical and can never look like a different payload under the same id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from regpipe.aggregate.errors import AggregateError, RelayError, StoreUnavailableError
from regpipe.aggregate.store.connection import CONNECTION_ERRORS, Connection
from regpipe.contract import CanonicalEvent, to_normalized_record
from regpipe.observability.logging import get_logger
from regpipe.observability.metrics import AGGREGATOR_OUTBOX_SENT

__all__ = ["OutboxRelay", "write_outbox"]

_log = get_logger(__name__)
_INSERT = """
INSERT INTO agg_outbox (event_id, key, value, headers) VALUES ($1, $2, $3, $4::jsonb)
ON CONFLICT (event_id) DO NOTHING
"""


async def write_outbox(conn: Connection, events: Sequence[CanonicalEvent]) -> None:
    """Add events to the outbox inside the caller's transaction (an id already there is left as it was)."""
    rows = []
    for event in events:
        # Keyed by id like every record of the normalized topic, so the deduplicator sees each id on one partition.
        record = to_normalized_record(event)
        headers = orjson.dumps([[name, value.decode()] for name, value in record.headers]).decode()
        rows.append((event.id, record.key, record.value, headers))
    if rows:
        await conn.executemany(_INSERT, rows)


class OutboxRelay:
    """Publishes unsent outbox rows in order, then marks them sent; replicas skip rows another one is sending."""

    def __init__(self, pool: asyncpg.Pool, producer: AIOKafkaProducer, topic: str, *, batch_max: int = 500) -> None:
        self._pool = pool
        self._producer = producer
        self._topic = topic
        self._batch_max = batch_max
        self.wake = asyncio.Event()

    async def relay_once(self) -> int:
        """Publish one batch of unsent rows; returns how many were sent (0: the outbox is empty).

        Raises `RelayError` (Kafka) or `StoreUnavailableError` (PostgreSQL); the rows then stay unsent.
        """
        try:
            return await self._relay_batch()
        except CONNECTION_ERRORS as exc:
            raise StoreUnavailableError(f"outbox relay failed: {type(exc).__name__}: {exc}") from exc

    async def _relay_batch(self) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT seq, key, value, headers FROM agg_outbox WHERE sent_at IS NULL ORDER BY seq LIMIT $1"
                " FOR UPDATE SKIP LOCKED",
                self._batch_max,
            )
            if not rows:
                return 0
            try:
                futures = [
                    await self._producer.send(
                        self._topic,
                        key=row["key"],
                        value=row["value"],
                        headers=[(name, value.encode()) for name, value in orjson.loads(row["headers"])],
                    )
                    for row in rows
                ]
                await asyncio.gather(*futures)
            except KafkaError as exc:
                raise RelayError(f"outbox relay failed: {type(exc).__name__}: {exc}") from exc
            await conn.execute(
                "UPDATE agg_outbox SET sent_at = now() WHERE seq = ANY($1::bigint[])", [row["seq"] for row in rows]
            )
        AGGREGATOR_OUTBOX_SENT.inc(len(rows))
        return len(rows)

    async def run(self, stop: asyncio.Event, *, interval_s: float = 0.5) -> None:
        """Relay until `stop`: drain the outbox, then wait for `wake` or the interval."""
        while not stop.is_set():
            try:
                while await self.relay_once():
                    pass
            except AggregateError as exc:
                _log.warning("outbox relay failed; retrying", error=str(exc))
            self.wake.clear()
            waiters = {asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())}
            _, pending = await asyncio.wait(waiters, timeout=interval_s, return_when=asyncio.FIRST_COMPLETED)
            for waiter in pending:
                waiter.cancel()
