"""`regpipe-replay` as an operator runs it (a real process, JSON on stdout), against the real broker."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import orjson
import pytest

from regpipe.contract.cloudevents import from_kafka_record
from regpipe.contract.sealing import RawSealer
from regpipe.normalize.processor import Processor, Quarantined
from regpipe.replay.groups import committed_offsets
from tests.normalize.provider_stream import coldmail_stream
from tests.normalize.topic_io import create_stage_topics, end_offsets, produce, read_all

pytestmark = pytest.mark.integration


async def _cli(bootstrap: str, *args: str) -> tuple[int, Any, str]:
    """Run the CLI; return its exit code, its parsed JSON report (None if none) and its stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "regpipe.replay.cli",
        *args,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, orjson.loads(out) if out.strip() else None, err.decode()


async def test_renormalize_dry_run_then_corrections(kafka_bootstrap: str) -> None:
    topics = await create_stage_topics(kafka_bootstrap)
    await produce(kafka_bootstrap, topics.raw, coldmail_stream(24, seed=10, broken_every=4))
    where = ["--raw-topic", topics.raw, "--normalized-topic", topics.normalized]

    code, dry, err = await _cli(kafka_bootstrap, "renormalize", *where, "--dry-run")
    assert code == 0, err
    assert (dry["read"], dry["mapped"], dry["published"], dry["dry_run"]) == (24, 18, 0, True)
    assert sum(dry["failed"].values()) == 6
    assert await read_all(kafka_bootstrap, topics.normalized) == []

    code, report, err = await _cli(kafka_bootstrap, "renormalize", *where, "--partition", "0", "--corrections")
    assert code == 0, err
    events = [from_kafka_record(r.value, list(r.headers)) for r in await read_all(kafka_bootstrap, topics.normalized)]
    assert report["ranges"] == [{"partition": 0, "from": 0, "to": (await end_offsets(kafka_bootstrap, topics.raw))[0]}]
    assert len(events) == report["published"] > 0
    assert all(event.correction and event.lineage and event.lineage.partition == 0 for event in events)


async def test_redrive_quarantine_by_reason(kafka_bootstrap: str) -> None:
    topics = await create_stage_topics(kafka_bootstrap)
    await produce(kafka_bootstrap, topics.raw, coldmail_stream(9, seed=11, broken_every=0))
    mapperless = Processor({}, RawSealer({}, None))
    quarantined = [
        q for q in map(mapperless.process, await read_all(kafka_bootstrap, topics.raw)) if isinstance(q, Quarantined)
    ]
    await produce(
        kafka_bootstrap, topics.quarantine, [(q.record.key, q.record.value, q.record.headers) for q in quarantined]
    )
    where = ["--quarantine-topic", topics.quarantine, "--normalized-topic", topics.normalized]

    code, skipped, err = await _cli(kafka_bootstrap, "redrive-quarantine", *where, "--reason", "invalid_json")
    assert code == 0, err
    assert (skipped["read"], skipped["skipped"], skipped["published"]) == (9, 9, 0)

    code, report, err = await _cli(kafka_bootstrap, "redrive-quarantine", *where, "--reason", "unknown_source")
    assert code == 0, err
    assert (report["read"], report["mapped"], report["failed"]) == (9, 9, {})
    assert len(await read_all(kafka_bootstrap, topics.normalized)) == report["published"] == report["events"] >= 9


async def test_reset_group_shows_by_default_and_applies_with_execute(kafka_bootstrap: str) -> None:
    topics = await create_stage_topics(kafka_bootstrap)
    await produce(kafka_bootstrap, topics.raw, coldmail_stream(15, seed=12, broken_every=0))
    ends = await end_offsets(kafka_bootstrap, topics.raw)
    where = ["--group", topics.group_id, "--topic", topics.raw]

    code, shown, err = await _cli(kafka_bootstrap, "reset-group", *where, "--to-latest")
    assert code == 0, err
    assert shown["executed"] is False
    assert [(row["current"], row["target"], row["lag"]) for row in shown["partitions"]] == [
        (None, end, 0) for _, end in sorted(ends.items())
    ]
    assert await committed_offsets(kafka_bootstrap, topics.group_id, topics.raw) == {}

    code, applied, err = await _cli(kafka_bootstrap, "reset-group", *where, "--to-latest", "--execute")
    assert code == 0, err
    assert applied["executed"] is True
    assert await committed_offsets(kafka_bootstrap, topics.group_id, topics.raw) == ends

    code, _, err = await _cli(kafka_bootstrap, "reset-group", *where, "--to-latest", "--to-earliest")
    assert code != 0
    assert "exactly one" in err
