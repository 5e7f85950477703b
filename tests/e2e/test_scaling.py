"""Scaling, proven: normalizer and deduplicator replicas join and leave (one killed) while 20,000 events flow,
and every event is on the public topic exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from regpipe.contract import from_kafka_record
from tests.conditions import eventually_async
from tests.kafka_io import committed_total, create_topics, produce_records, read_topic, unique, wait_until_committed
from tests.normalize.provider_stream import coldmail_stream, expected_outcome
from tests.service_process import ServiceUnderTest

# Each step waits on its own condition with its own deadline; the whole test moves tens of thousands of records
# through several processes, which on a busy machine takes longer than the suite's default limit.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

_EVENTS = 20_000
_CHUNKS = 4


async def test_replicas_join_and_leave_while_events_flow(kafka_bootstrap: str, tmp_path: Path) -> None:
    tag = unique("scale")
    raw, normalized, events = f"raw-{tag}", f"normalized-{tag}", f"events-{tag}"
    await create_topics(kafka_bootstrap, [raw, normalized, events, f"quarantine-{tag}", f"state-{tag}"], partitions=6)
    records = coldmail_stream(_EVENTS, broken_every=0)
    expected = expected_outcome(records)
    assert len(expected.ids) == _EVENTS  # one canonical event per raw record

    common = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    normalizer_env = {
        **common,
        "NORMALIZER_GROUP_ID": f"normalizer-{tag}",
        "NORMALIZER_INPUT_TOPIC": raw,
        "NORMALIZER_OUTPUT_TOPIC": normalized,
        "NORMALIZER_QUARANTINE_TOPIC": f"quarantine-{tag}",
        "NORMALIZER_BATCH_MAX": "200",
    }
    dedup_env = {
        **common,
        "DEDUP_GROUP_ID": f"dedup-{tag}",
        "DEDUP_TRANSACTIONAL_ID_PREFIX": f"txn-{tag}",
        "DEDUP_INPUT_TOPIC": normalized,
        "DEDUP_OUTPUT_TOPIC": events,
        "DEDUP_CHANGELOG_TOPIC": f"state-{tag}",
        "DEDUP_QUARANTINE_TOPIC": f"quarantine-{tag}",
        "DEDUP_BATCH_MAX": "200",
    }
    for replica in ("n0", "n1", "n2", "d0", "d1"):
        (tmp_path / replica).mkdir()
    normalizers = [ServiceUnderTest("normalizer", normalizer_env, tmp_path / f"n{i}") for i in range(3)]
    dedups = [ServiceUnderTest("deduplicator", dedup_env, tmp_path / f"d{i}") for i in range(2)]
    chunk = _EVENTS // _CHUNKS

    async def normalized_at_least(count: int) -> None:
        async def reached() -> bool:
            return await committed_total(kafka_bootstrap, f"normalizer-{tag}", raw) >= count

        await eventually_async(reached, f"the normalizers committed {count} raw records", timeout_s=180)

    try:
        # One replica of each, then three normalizers and two deduplicators, then one of each leaves
        # (a normalizer stopped, a deduplicator killed mid-transaction), then a second normalizer is killed.
        await produce_records(kafka_bootstrap, raw, records[:chunk])
        normalizers[0].start()
        dedups[0].start()
        await normalized_at_least(chunk // 2)
        await produce_records(kafka_bootstrap, raw, records[chunk : 2 * chunk])
        normalizers[1].start()
        normalizers[2].start()
        dedups[1].start()
        await normalized_at_least(chunk + chunk // 2)
        await produce_records(kafka_bootstrap, raw, records[2 * chunk : 3 * chunk])
        normalizers[0].stop()
        dedups[0].kill()
        await normalized_at_least(2 * chunk + chunk // 2)
        await produce_records(kafka_bootstrap, raw, records[3 * chunk :])
        normalizers[1].kill()
        await wait_until_committed(kafka_bootstrap, f"normalizer-{tag}", raw, timeout_s=240)
        await wait_until_committed(kafka_bootstrap, f"dedup-{tag}", normalized, timeout_s=240)
        published = await read_topic(kafka_bootstrap, events, expect=_EVENTS, timeout_s=120, settle_s=3)
    finally:
        for service in (*normalizers, *dedups):
            service.stop()

    ids = [from_kafka_record(record.value, list(record.headers)).id for record in published]
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} ids published twice"
    assert set(ids) == expected.ids
