"""The topic registry and `regpipe-topics ensure`, on a broker of their own (so every topic starts missing)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from regpipe.kafka import TOPICS, Topic, ensure_topics
from regpipe.stack.kafka import KafkaServer
from tests.conditions import eventually_async


def test_every_topic_has_a_spec_and_the_dedup_changelog_mirrors_its_input() -> None:
    assert set(TOPICS) == set(Topic)
    assert TOPICS[Topic.DEDUP_STATE].partitions == TOPICS[Topic.NORMALIZED].partitions
    assert "compact" in TOPICS[Topic.DEDUP_STATE].cleanup_policy


@pytest.fixture(scope="module")
async def own_broker() -> AsyncIterator[str]:
    server = KafkaServer(Path(tempfile.mkdtemp(prefix="regpipe-topics-")))
    await server.astart()
    try:
        yield server.bootstrap_servers
    finally:
        await server.astop()


@pytest.mark.integration
async def test_ensure_creates_then_reports_unchanged_then_drift(own_broker: str) -> None:
    first = await ensure_topics(own_broker)
    assert sorted(first.created) == sorted(t.value for t in Topic)
    second = await ensure_topics(own_broker)
    assert second.created == []
    assert sorted(second.unchanged) == sorted(t.value for t in Topic)
    assert second.ok

    admin = AIOKafkaAdminClient(bootstrap_servers=own_broker)
    await admin.start()
    try:
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, Topic.RAW.value, configs={"retention.ms": "1000"})]
        )
    finally:
        await admin.close()
    # The broker applies a config change asynchronously (KRaft metadata): ask until it shows.
    reports = []

    async def drift_shows() -> bool:
        reports.append(await ensure_topics(own_broker))
        return not reports[-1].ok

    await eventually_async(drift_shows, "the changed retention shows as drift")
    third = reports[-1]
    assert not third.ok
    assert Topic.RAW.value in third.drift
    assert any("retention.ms" in problem for problem in third.drift[Topic.RAW.value])

    cli = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "regpipe.kafka.topics_cli", "ensure"],
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": own_broker},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert "retention.ms" in cli.stdout
