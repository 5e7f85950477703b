"""The deduplicator stage: from `registrar.normalized.v1` (may hold duplicates) to the public `registrar.events.v1`,
each canonical id at most once, with Kafka transactions per input partition."""

from regpipe.dedup.decision import Decision, SeenEntry, Verdict, decide
from regpipe.dedup.errors import DedupError, DedupStageError
from regpipe.dedup.fingerprint import fingerprint
from regpipe.dedup.stage import DedupConfig, DedupStage

__all__ = [
    "Decision",
    "DedupConfig",
    "DedupError",
    "DedupStage",
    "DedupStageError",
    "SeenEntry",
    "Verdict",
    "decide",
    "fingerprint",
]
