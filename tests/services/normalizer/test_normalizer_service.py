"""The normalizer service as real processes on the real broker: SIGKILLed mid-stream and restarted it loses
nothing; two replicas in one group split the partitions and together publish everything."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from regpipe.contract.cloudevents import from_kafka_record
from regpipe.replay.groups import committed_offsets
from regpipe.stack.ports import free_port
from tests.conditions import eventually, eventually_async
from tests.normalize.provider_stream import coldmail_stream, expected_outcome
from tests.normalize.topic_io import (
    StageTopics,
    committed_total,
    create_stage_topics,
    end_offsets,
    produce,
    read_all,
    wait_until_committed,
    wait_until_committed_at_least,
)
from tests.service_process import ServiceUnderTest

pytestmark = pytest.mark.integration


def _env(bootstrap: str, topics: StageTopics, **extra: str) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "NORMALIZER_GROUP_ID": topics.group_id,
        "NORMALIZER_INPUT_TOPIC": topics.raw,
        "NORMALIZER_OUTPUT_TOPIC": topics.normalized,
        "NORMALIZER_QUARANTINE_TOPIC": topics.quarantine,
        "NORMALIZER_SESSION_TIMEOUT_MS": "6000",
        **extra,
    }


async def _assert_everything_delivered(
    bootstrap: str, topics: StageTopics, records: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]]
) -> int:
    """Every expected id on normalized and every bad record in quarantine with its reason, at least once, and
    offsets committed to the end; returns how many duplicates normalized holds."""
    expected = expected_outcome(records)
    published = [from_kafka_record(r.value, list(r.headers)).id for r in await read_all(bootstrap, topics.normalized)]
    assert set(published) == expected.ids
    quarantined = await read_all(bootstrap, topics.quarantine)
    reasons = {r.key: dict(r.headers)["quarantine-reason"].decode() for r in quarantined}
    assert reasons == expected.quarantined
    assert await committed_offsets(bootstrap, topics.group_id, topics.raw) == await end_offsets(bootstrap, topics.raw)
    return len(published) - len(expected.ids)


async def test_sigkill_mid_stream_then_restart_loses_nothing(kafka_bootstrap: str, tmp_path: Path) -> None:
    topics = await create_stage_topics(kafka_bootstrap)
    records = coldmail_stream(4000)
    await produce(kafka_bootstrap, topics.raw, records)
    service = ServiceUnderTest("normalizer", _env(kafka_bootstrap, topics, NORMALIZER_BATCH_MAX="50"), tmp_path)

    service.start()
    try:
        # Kill once part of the stream is committed, well before the end.
        await wait_until_committed_at_least(kafka_bootstrap, topics.group_id, topics.raw, 300)
        service.kill()
        committed_at_kill = await committed_total(kafka_bootstrap, topics.group_id, topics.raw)
        assert committed_at_kill < len(records), "the stage finished before it could be killed mid-stream"
        service.start()
        await wait_until_committed(kafka_bootstrap, topics.group_id, topics.raw, timeout_s=90)
    finally:
        exit_code = service.stop()

    assert exit_code == 0, service.log[-3000:]
    await _assert_everything_delivered(kafka_bootstrap, topics, records)


def _assignments(log: str) -> list[set[int]]:
    """The partition sets a replica logged it was assigned, in order."""
    found: list[set[int]] = []
    for line in log.splitlines():
        if line.startswith("{") and '"partitions assigned"' in line:
            found.append({int(name.rsplit(":", 1)[1]) for name in orjson.loads(line)["partitions"]})
    return found


def _split(first: list[set[int]], second: list[set[int]], partitions: set[int]) -> bool:
    """True when both replicas' latest assignments are non-empty, disjoint and cover `partitions`."""
    return bool(first and second and first[-1] and second[-1]) and (
        not first[-1] & second[-1] and first[-1] | second[-1] == partitions
    )


async def test_two_replicas_split_the_partitions_and_together_publish_everything(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topics = await create_stage_topics(kafka_bootstrap, partitions=4)
    health_port = free_port()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    # A session of 30 s: "no rebalance after the records arrived" must not depend on a loaded machine sending
    # every heartbeat within the broker's 6 s minimum.
    session = {"NORMALIZER_SESSION_TIMEOUT_MS": "30000"}
    first = ServiceUnderTest(
        "normalizer", _env(kafka_bootstrap, topics, HEALTH_PORT=str(health_port), **session), tmp_path / "a"
    )
    second = ServiceUnderTest("normalizer", _env(kafka_bootstrap, topics, **session), tmp_path / "b")
    records = coldmail_stream(1500, seed=2)
    with first, second:
        try:
            await eventually(
                lambda: _split(_assignments(first.log), _assignments(second.log), {0, 1, 2, 3}),
                "the replicas split the partitions",
                timeout_s=120,
            )
        except AssertionError as missing:
            pytest.fail(f"{missing}:\n{first.log[-2000:]}\n{second.log[-2000:]}")

        async def ready() -> bool:
            async with httpx.AsyncClient(timeout=5) as client:
                try:
                    return (await client.get(f"http://127.0.0.1:{health_port}/readyz")).status_code == 200
                except httpx.TransportError:
                    return False  # not listening yet

        await eventually_async(ready, "the first replica is ready")
        await produce(kafka_bootstrap, topics.raw, records)
        await wait_until_committed(kafka_bootstrap, topics.group_id, topics.raw, timeout_s=60)

    assert (first.returncode, second.returncode) == (0, 0)
    duplicates = await _assert_everything_delivered(kafka_bootstrap, topics, records)
    assert duplicates == 0  # no crash, no rebalance after the records arrived: each mapped once
