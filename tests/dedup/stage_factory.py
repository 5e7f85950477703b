"""The deduplicator stage on the real broker, wired as the service wires it: a consumer made from the config."""

from __future__ import annotations

from regpipe.dedup import DedupConfig, DedupStage
from regpipe.streaming import create_consumer

__all__ = ["dedup_stage"]


def dedup_stage(bootstrap: str, config: DedupConfig) -> DedupStage:
    """A stage with its own consumer in `config.group_id`."""
    return DedupStage(create_consumer(bootstrap, config.consumer_spec()), bootstrap, config)
