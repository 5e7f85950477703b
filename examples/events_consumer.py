"""Example: a consumer of `registrar.events.v1` built on FastStream, written as another team would write it.

It follows docs/consumers.md: `read_committed` (the deduplicator writes in transactions), offsets committed only
after the event was applied, idempotent by the event `id` (the id is recorded in the same local transaction as
the effect, so a redelivery after a crash is recognised), corrections replace what an id said before, and tolerant
reading (attributes and data fields this consumer does not know are ignored, not refused).

It depends on the wire contract only (headers and JSON, docs/asyncapi.yaml), not on the regpipe package. The effect
here is a row per event in a SQLite table plus one JSON line on stdout; a real consumer puts its own effect inside
`_apply`'s transaction.

Run: KAFKA_BOOTSTRAP_SERVERS=localhost:9092 python -m examples.events_consumer
     (EVENTS_TOPIC, CONSUMER_GROUP and CONSUMER_DB optional; SIGTERM or Ctrl-C stops it after the current event)
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import sys
import uuid
from typing import Any, Final

from faststream import AckPolicy, FastStream
from faststream.kafka import ConsumerRecord, KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

__all__ = ["AppliedEvents", "EventAttributes", "build_app", "main", "parse_attributes"]

PUBLIC_TOPIC: Final = "registrar.events.v1"
_log = logging.getLogger("events_consumer")


class EventAttributes(BaseModel):
    """The CloudEvents attributes this consumer uses, read from the `ce_*` headers; others are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: uuid.UUID
    type: str
    source: str
    subject: str | None = None
    time: AwareDatetime
    partitionkey: str
    correction: bool = False


def parse_attributes(headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]) -> EventAttributes:
    """The `ce_*` headers of one record as `EventAttributes` (raises `ValidationError` or `UnicodeDecodeError`)."""
    attributes = {name[3:]: value.decode() for name, value in headers if name.startswith("ce_")}
    return EventAttributes.model_validate(attributes)


class AppliedEvents:
    """The consumer's own state: which ids it applied, and the effect (here, the last data seen per id).

    One SQLite transaction records the id and the effect together, so "applied" and "recorded" never disagree.
    """

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS applied_events ("
            " id TEXT PRIMARY KEY, type TEXT NOT NULL, subject TEXT, time TEXT NOT NULL, data TEXT NOT NULL)"
        )

    def apply(self, event: EventAttributes, data: dict[str, Any]) -> bool:
        """Apply `event` unless its id was applied before; a correction replaces the earlier effect.

        Returns whether anything changed.
        """
        row = (str(event.id), event.type, event.subject, event.time.isoformat(), json.dumps(data, sort_keys=True))
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if event.correction:
                cursor = self._db.execute("INSERT OR REPLACE INTO applied_events VALUES (?, ?, ?, ?, ?)", row)
            else:
                cursor = self._db.execute("INSERT OR IGNORE INTO applied_events VALUES (?, ?, ?, ?, ?)", row)
            # ... a real consumer performs its own effect here, inside the same transaction ...
            self._db.execute("COMMIT")
        except sqlite3.Error:
            self._db.execute("ROLLBACK")
            raise
        return cursor.rowcount == 1

    def close(self) -> None:
        """Close the database."""
        self._db.close()


def _report(event: EventAttributes, data: dict[str, Any]) -> None:
    line = {
        "id": str(event.id),
        "type": event.type,
        "subject": event.subject,
        "correction": event.correction,
        "time": event.time.isoformat(),
        "data_fields": sorted(data),
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def build_app(bootstrap: str, *, topic: str, group_id: str, state: AppliedEvents) -> FastStream:
    """The FastStream application: one subscriber on the public topic."""
    broker = KafkaBroker(bootstrap, logger=_log)

    # read_committed: records of aborted or still-open transactions are never seen. NACK_ON_ERROR: an error in
    # `handle` (e.g. our database is down) leaves the offset uncommitted and the record is read again.
    @broker.subscriber(
        topic,
        group_id=group_id,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def handle(message: KafkaMessage) -> None:
        record = message.raw_message
        if not isinstance(record, ConsumerRecord):  # a batch subscriber would get a tuple
            raise TypeError(f"expected one record, got {type(record).__name__}")
        try:
            event = parse_attributes(record.headers)
            data = json.loads(record.value)
        except (ValidationError, UnicodeDecodeError, ValueError) as exc:
            # The public topic only carries validated events, so this is a bug upstream or a contract we do not
            # know yet: log where it is (never the body) and go on, rather than stop the whole consumer.
            _log.error(
                "skipped an undecodable record at %s/%s@%s: %s", record.topic, record.partition, record.offset, exc
            )
            return
        if state.apply(event, data):
            _report(event, data)

    return FastStream(broker, logger=_log)


def main() -> None:
    """Run until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    state = AppliedEvents(os.environ.get("CONSUMER_DB", "events_consumer.sqlite"))
    app = build_app(
        os.environ["KAFKA_BOOTSTRAP_SERVERS"],
        topic=os.environ.get("EVENTS_TOPIC", PUBLIC_TOPIC),
        group_id=os.environ.get("CONSUMER_GROUP", "example-events-consumer"),
        state=state,
    )
    try:
        asyncio.run(app.run())
    finally:
        state.close()


if __name__ == "__main__":
    main()
