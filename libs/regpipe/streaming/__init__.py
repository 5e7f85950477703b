"""The stage shell every consuming stage runs in: a consumer taken from outside, a loop, a rebalance listener,
readiness, and a per-stage `Strategy` (getsentry/arroyo's `StreamProcessor` + `ProcessingStrategy`, asyncio form).

`StreamProcessor` drives any `Strategy`; `CommitAfterAcks` is the at-least-once strategy (commit a batch only once
its output is acknowledged, batches overlapping, commits in order); `build_quarantine_record` is the one
quarantine record every stage writes. Errors:

    StreamingError
    ├── AckError        Kafka did not acknowledge a record produced for a batch: the batch stays uncommitted
    └── CommitError     Kafka did not take the commit of a batch's offsets: the batch is read again
"""

from regpipe.streaming.commit import OffsetCommitter
from regpipe.streaming.commit_after_acks import CommitAfterAcks, InFlight, SendBatch
from regpipe.streaming.consumer import Consumer, ConsumerSpec, create_consumer
from regpipe.streaming.errors import AckError, CommitError, StreamingError
from regpipe.streaming.quarantine import (
    NO_MAPPER,
    QUARANTINE_HEADERS,
    QuarantineInfo,
    QuarantineRecord,
    build_quarantine_record,
    fit_quarantine_record,
    read_quarantine_record,
)
from regpipe.streaming.record import ConsumedRecord, RawRecord
from regpipe.streaming.record_size import record_size
from regpipe.streaming.shell import StreamProcessor
from regpipe.streaming.strategy import Batch, Strategy

__all__ = [
    "NO_MAPPER",
    "QUARANTINE_HEADERS",
    "AckError",
    "Batch",
    "CommitAfterAcks",
    "CommitError",
    "ConsumedRecord",
    "Consumer",
    "ConsumerSpec",
    "InFlight",
    "OffsetCommitter",
    "QuarantineInfo",
    "QuarantineRecord",
    "RawRecord",
    "SendBatch",
    "Strategy",
    "StreamProcessor",
    "StreamingError",
    "build_quarantine_record",
    "create_consumer",
    "fit_quarantine_record",
    "read_quarantine_record",
    "record_size",
]
