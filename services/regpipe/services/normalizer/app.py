"""Wires the normalizer: the provider registry, the sealer, the consumer, the stage, and the worker runtime."""

from __future__ import annotations

from regpipe.normalize import NormalizerStage, Processor, StageConfig, default_mappers
from regpipe.runtime import run_worker
from regpipe.services.normalizer.settings import NormalizerSettings
from regpipe.streaming import create_consumer

__all__ = ["SERVICE", "create_stage", "run"]

SERVICE = "normalizer"


def create_stage(settings: NormalizerSettings) -> NormalizerStage:
    """The stage as configured, with its consumer, mapping with every registered provider's mapper."""
    sealer = settings.sealer()
    config = StageConfig(
        group_id=settings.normalizer_group_id,
        input_topic=settings.normalizer_input_topic,
        output_topic=settings.normalizer_output_topic,
        quarantine_topic=settings.normalizer_quarantine_topic,
        batch_max=settings.normalizer_batch_max,
        session_timeout_ms=settings.normalizer_session_timeout_ms,
        client_id=f"regpipe-{SERVICE}",
    )
    processor = Processor(default_mappers(), sealer)
    consumer = create_consumer(settings.kafka_connection(), config.consumer_spec())
    return NormalizerStage(consumer, settings.kafka_connection(), processor, config)


async def run(settings: NormalizerSettings) -> None:
    """Run the stage until SIGTERM/SIGINT."""
    stage = create_stage(settings)
    await run_worker(
        SERVICE, stage.run, ready=stage.ready, health_host=settings.health_host, health_port=settings.health_port
    )
