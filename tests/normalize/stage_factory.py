"""The normalizer stage on the real broker, wired as the service wires it: a consumer made from the config."""

from __future__ import annotations

from regpipe.normalize.processor import Processor
from regpipe.normalize.stage import NormalizerStage, StageConfig
from regpipe.streaming import create_consumer

__all__ = ["normalizer_stage"]


def normalizer_stage(bootstrap: str, processor: Processor, config: StageConfig) -> NormalizerStage:
    """A stage with its own consumer in `config.group_id`."""
    return NormalizerStage(create_consumer(bootstrap, config.consumer_spec()), bootstrap, processor, config)
