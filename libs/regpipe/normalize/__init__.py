"""The normalizer stage: raw provider records from `registrar.raw.v1` to canonical events on
`registrar.normalized.v1`, or, when they cannot be mapped, to `registrar.quarantine.v1` with the reason.

`Processor` is the pure core (one record in, events or a quarantine record out); `NormalizerStage` runs it in the
stage shell of `regpipe.streaming` (at-least-once, commit last); `default_mappers` the explicit provider registry.

A record that cannot be mapped is never an exception: it is a `Quarantined` result. Exceptions are for the
infrastructure only:

    NormalizeError
    └── StageError      Kafka did not acknowledge a batch or refused its commit; the batch stays uncommitted
"""

from regpipe.normalize.errors import NormalizeError, StageError
from regpipe.normalize.processor import UNKNOWN, Mapped, Processor, Quarantined, Result
from regpipe.normalize.publish import Outgoing, publish_all
from regpipe.normalize.registry import Mapper, MapperRegistry, default_mappers
from regpipe.normalize.stage import NormalizerStage, StageConfig

__all__ = [
    "UNKNOWN",
    "Mapped",
    "Mapper",
    "MapperRegistry",
    "NormalizeError",
    "NormalizerStage",
    "Outgoing",
    "Processor",
    "Quarantined",
    "Result",
    "StageConfig",
    "StageError",
    "default_mappers",
    "publish_all",
]
