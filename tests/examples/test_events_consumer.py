"""The example consumer of docs/consumers.md, run as a real process on the real broker: it applies every committed
event once (a duplicate id is skipped, a correction replaces, an aborted transaction is never seen), tolerates
fields added later, and after a SIGKILL resumes without applying anything twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from regpipe.contract import CanonicalEvent, EventType, Outcome, Source, Transport, to_kafka_record
from regpipe.contract.events import DATA_MODELS
from tests.kafka_io import create_topics, produce_events, unique

pytestmark = pytest.mark.integration

_ROOT = Path(__file__).resolve().parents[2]


def _event(domain: str, *, event_id: uuid.UUID | None = None, correction: bool = False) -> CanonicalEvent:
    return CanonicalEvent(
        id=event_id or uuid.uuid4(),
        source=Source.OPENSRS,
        type=EventType.DOMAIN_TRANSFER_STATUS_CHANGED,
        subject=domain,
        time=datetime(2026, 1, 1, tzinfo=UTC),
        partition_key=domain,
        outcome=Outcome.NOTIFICATION,
        provider_event_type="TRANSFER.STATUS_CHANGE",
        transport=Transport.POLL,
        mapper_version="opensrs/2.0.0" if correction else "opensrs/1.0.0",
        correction=correction,
        data=DATA_MODELS[EventType.DOMAIN_TRANSFER_STATUS_CHANGED].model_validate({"domain": domain}),
    )


class _Consumer:
    """`python -m examples.events_consumer` with its stdout (one JSON line per applied event) in a file."""

    def __init__(self, env: dict[str, str], out: Path) -> None:
        self._env = {**os.environ, **env}
        self._out = out
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self._out.open("ab") as out, self._out.with_suffix(".err").open("ab") as err:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "examples.events_consumer"], env=self._env, cwd=_ROOT, stdout=out, stderr=err
            )

    def applied(self) -> list[dict[str, Any]]:
        text = self._out.read_text() if self._out.exists() else ""
        return [orjson.loads(line) for line in text.splitlines() if line.startswith("{")]

    def wait_for(self, event_id: uuid.UUID, timeout_s: float = 60.0) -> list[dict[str, Any]]:
        """Everything applied so far, once `event_id` was applied (the topic has one partition: all before it too)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            applied = self.applied()
            if any(line["id"] == str(event_id) for line in applied):
                return applied
            assert self._proc is not None
            assert self._proc.poll() is None, self._out.with_suffix(".err").read_text()
            time.sleep(0.2)
        raise AssertionError(f"{event_id} not applied in {timeout_s} s: {self._out.with_suffix('.err').read_text()}")

    def signal(self, sig: signal.Signals) -> int:
        assert self._proc is not None
        self._proc.send_signal(sig)
        return self._proc.wait(timeout=30)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=10)


@pytest.fixture
def consumer_factory() -> Iterator[list[_Consumer]]:
    started: list[_Consumer] = []
    yield started
    for consumer in started:
        consumer.stop()


async def _produce_aborted(bootstrap: str, topic: str, event: CanonicalEvent) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=unique("aborting"))
    await producer.start()
    try:
        record = to_kafka_record(event)
        await producer.begin_transaction()
        await producer.send_and_wait(topic, key=record.key, value=record.value, headers=record.headers)
        await producer.abort_transaction()
    finally:
        await producer.stop()


async def _produce_with_added_field(bootstrap: str, topic: str, event: CanonicalEvent) -> None:
    """What a newer producer writes: one data field and one attribute this consumer's version does not know."""
    record = to_kafka_record(event)
    value = orjson.loads(record.value)
    value["added_later"] = {"nested": True}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        headers = [*record.headers, ("ce_addedlater", b"x")]
        await producer.send_and_wait(topic, key=record.key, value=orjson.dumps(value), headers=headers)
    finally:
        await producer.stop()


async def test_example_consumer_applies_each_committed_event_once(
    kafka_bootstrap: str, tmp_path: Path, consumer_factory: list[_Consumer]
) -> None:
    topic = unique("events-example")
    await create_topics(kafka_bootstrap, [topic], partitions=1)
    first, second, aborted = _event("a.example"), _event("b.example"), _event("never.example")
    correction = _event("b.example", event_id=second.id, correction=True)
    newer, last = _event("newer.example"), _event("last.example")
    await produce_events(kafka_bootstrap, topic, [first, second, first])  # `first` twice: a redelivery
    await _produce_aborted(kafka_bootstrap, topic, aborted)
    await produce_events(kafka_bootstrap, topic, [correction])
    await _produce_with_added_field(kafka_bootstrap, topic, newer)
    await produce_events(kafka_bootstrap, topic, [last])

    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "EVENTS_TOPIC": topic,
        "CONSUMER_GROUP": unique("example-group"),
        "CONSUMER_DB": str(tmp_path / "applied.sqlite"),
    }
    consumer = _Consumer(env, tmp_path / "applied.jsonl")
    consumer_factory.append(consumer)
    consumer.start()
    applied = await asyncio.to_thread(consumer.wait_for, last.id)
    assert [(line["id"], line["correction"]) for line in applied] == [
        (str(first.id), False),
        (str(second.id), False),
        (str(second.id), True),
        (str(newer.id), False),
        (str(last.id), False),
    ]
    assert "added_later" in applied[3]["data_fields"]  # kept as data, not refused

    # SIGKILL: the last offset may not be committed, so records are read again; none may be applied twice.
    assert consumer.signal(signal.SIGKILL) == -signal.SIGKILL
    after_restart = _event("after.example")
    await produce_events(kafka_bootstrap, topic, [first, after_restart])
    consumer.start()
    applied = await asyncio.to_thread(consumer.wait_for, after_restart.id)
    assert [line["id"] for line in applied].count(str(first.id)) == 1
    assert len(applied) == 6

    # SIGTERM stops it cleanly.
    assert consumer.signal(signal.SIGTERM) == 0
