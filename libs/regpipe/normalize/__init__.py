"""The normalizer stage: raw provider records from `registrar.raw.v1` to canonical events on
`registrar.normalized.v1`, or, when they cannot be mapped, to `registrar.quarantine.v1` with the reason.

`Processor` is the pure core (one record in, events or a quarantine record out); `NormalizerStage` is the
consumer-group loop around it (at-least-once, commit last); `default_mappers` the explicit provider registry.

A record that cannot be mapped is never an exception: it is a `Quarantined` result. Exceptions are for the
infrastructure only:

    NormalizeError
    └── StageError      Kafka did not acknowledge a batch or refused its commit; the batch stays uncommitted
"""

from regpipe.normalize.errors import NormalizeError, StageError
from regpipe.normalize.processor import UNKNOWN, Mapped, Processor, Quarantined, Result
from regpipe.normalize.publish import Outgoing, publish_all
from regpipe.normalize.quarantine import (
    QUARANTINE_HEADERS,
    QuarantineInfo,
    QuarantineRecord,
    build_quarantine_record,
    read_quarantine_record,
)
from regpipe.normalize.record import ConsumedRecord, RawRecord
from regpipe.normalize.registry import Mapper, MapperRegistry, default_mappers
from regpipe.normalize.stage import NormalizerStage, StageConfig

__all__ = [
    "QUARANTINE_HEADERS",
    "UNKNOWN",
    "ConsumedRecord",
    "Mapped",
    "Mapper",
    "MapperRegistry",
    "NormalizeError",
    "NormalizerStage",
    "Outgoing",
    "Processor",
    "QuarantineInfo",
    "QuarantineRecord",
    "Quarantined",
    "RawRecord",
    "Result",
    "StageConfig",
    "StageError",
    "build_quarantine_record",
    "default_mappers",
    "publish_all",
    "read_quarantine_record",
]
