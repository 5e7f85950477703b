"""Wires the deduplicator: the transactional dedup stage under the worker runtime."""

from __future__ import annotations

from regpipe.dedup import DedupConfig, DedupStage
from regpipe.runtime import run_worker
from regpipe.services.deduplicator.settings import DeduplicatorSettings

SERVICE = "deduplicator"


async def run(settings: DeduplicatorSettings) -> None:
    """Run the stage until SIGTERM/SIGINT."""
    stage = DedupStage(
        settings.kafka_bootstrap_servers,
        DedupConfig(
            group_id=settings.dedup_group_id,
            input_topic=settings.dedup_input_topic,
            output_topic=settings.dedup_output_topic,
            changelog_topic=settings.dedup_changelog_topic,
            quarantine_topic=settings.dedup_quarantine_topic,
            transactional_id_prefix=settings.dedup_transactional_id_prefix,
            batch_max=settings.dedup_batch_max,
        ),
    )
    await run_worker(
        SERVICE, stage.run, ready=stage.ready, health_host=settings.health_host, health_port=settings.health_port
    )
