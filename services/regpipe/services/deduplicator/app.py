"""Wires the deduplicator: the consumer and the transactional dedup stage under the worker runtime."""

from __future__ import annotations

from regpipe.dedup import DedupConfig, DedupStage
from regpipe.runtime import run_worker
from regpipe.services.deduplicator.settings import DeduplicatorSettings
from regpipe.streaming import create_consumer

__all__ = ["SERVICE", "create_stage", "run"]

SERVICE = "deduplicator"


def create_stage(settings: DeduplicatorSettings) -> DedupStage:
    """The stage as configured, with its consumer."""
    config = DedupConfig(
        group_id=settings.dedup_group_id,
        input_topic=settings.dedup_input_topic,
        output_topic=settings.dedup_output_topic,
        changelog_topic=settings.dedup_changelog_topic,
        quarantine_topic=settings.dedup_quarantine_topic,
        transactional_id_prefix=settings.dedup_transactional_id_prefix,
        batch_max=settings.dedup_batch_max,
        state_window_s=settings.dedup_state_window_days * 24 * 3600,
    )
    consumer = create_consumer(settings.kafka_connection(), config.consumer_spec())
    return DedupStage(consumer, settings.kafka_connection(), config)


async def run(settings: DeduplicatorSettings) -> None:
    """Run the stage until SIGTERM/SIGINT."""
    stage = create_stage(settings)
    await run_worker(
        SERVICE, stage.run, ready=stage.ready, health_host=settings.health_host, health_port=settings.health_port
    )
