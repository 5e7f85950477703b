"""Running the deduplicator stage on private topics of the real broker until the topics show what a test waits for."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from regpipe.contract import CanonicalEvent
from regpipe.dedup import DedupConfig
from regpipe.normalize.processor import normalized_record
from tests.conditions import eventually_async
from tests.dedup.stage_factory import dedup_stage
from tests.kafka_io import create_topics, produce_records, unique

__all__ = ["create_dedup_topics", "dedup_config", "produce_normalized", "run_stage_until"]


def dedup_config(**overrides: Any) -> DedupConfig:
    """A config on private topics and a private group."""
    tag = unique("t")
    config = DedupConfig(
        group_id=f"dedup-{tag}",
        input_topic=f"normalized-{tag}",
        output_topic=f"events-{tag}",
        changelog_topic=f"state-{tag}",
        quarantine_topic=f"quarantine-{tag}",
        transactional_id_prefix=f"dedup-{tag}",
        poll_timeout_ms=100,
    )
    return replace(config, **overrides)


async def create_dedup_topics(bootstrap: str, config: DedupConfig, *, partitions: int = 3) -> None:
    """Create the four topics of `config`."""
    names = [config.input_topic, config.output_topic, config.changelog_topic, config.quarantine_topic]
    await create_topics(bootstrap, names, partitions=partitions)


async def produce_normalized(bootstrap: str, topic: str, events: list[CanonicalEvent]) -> None:
    """Produce `events` exactly as the normalizer writes them (keyed by canonical id)."""
    records = [normalized_record(event) for event in events]
    await produce_records(bootstrap, topic, [(r.key, r.value, list(r.headers)) for r in records])


async def run_stage_until(
    bootstrap: str, config: DedupConfig, condition: Callable[[], Awaitable[bool]], what: str
) -> None:
    """Run one stage until `condition` holds; a stage that stops on its own fails the test with its error."""
    stage = dedup_stage(bootstrap, config)
    stop = asyncio.Event()
    task = asyncio.create_task(stage.run(stop))

    async def holds() -> bool:
        if task.done():
            task.result()  # raises the stage's error
            raise AssertionError("the stage stopped on its own")
        return await condition()

    try:
        await eventually_async(holds, what, timeout_s=60)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
